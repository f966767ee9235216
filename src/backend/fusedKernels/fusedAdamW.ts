/**
 * Multi-tensor AdamW: one kernel updates every variable, its first and second moments (as
 * PyTorch's foreach/fused AdamW does), instead of ~15 elementwise kernels per variable. The
 * arithmetic is that of the unfused update in adamW.ts:
 *   g ← s·g (s: gradientScale),  m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
 *   p ← p·(1 − lr·wd) − lr·(m / c1) / (√(v / c2) + ε),   c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ.
 * Inputs: params…, grads…, m…, v… (n each). Outputs: params…, m…, v…, and on the host
 * backends (wasm, cpu) one more: the count of non-finite new parameters, counted while they are
 * written, so refusing a non-finite update costs no extra kernels there.
 */
import { engine, type Tensor, type TensorInfo } from "@tensorflow/tfjs-core";
import type { HostKernel } from "./hostKernel";

export const FUSED_ADAMW = "FairdiffFusedAdamW";

export interface AdamWStepAttrs {
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ at this step. */
  correction1: number;
  correction2: number;
  /** Multiplies every gradient first (global-norm clipping without a pass of its own). */
  gradientScale: number;
}

/** The attributes in the order the WebGPU shader's uniforms and the native kernel read them. */
export function adamWSettingsInOrder(a: AdamWStepAttrs): number[] {
  return [
    a.learningRate,
    a.weightDecay,
    a.beta1,
    a.beta2,
    a.epsilon,
    a.correction1,
    a.correction2,
    a.gradientScale,
  ];
}

export const fusedAdamWHost: HostKernel<AdamWStepAttrs> = {
  name: FUSED_ADAMW,
  outputShapes(inputs: TensorInfo[]) {
    const n = inputs.length / 4;
    const params = inputs.slice(0, n).map((t) => t.shape);
    return [...params, ...params, ...params, [1]];
  },
  compute(inputs, outputs, _shapes, a) {
    const n = inputs.length / 4;
    // Constants in locals, divisions as products: the loop runs over every trained parameter.
    const { beta1, beta2, epsilon, learningRate, gradientScale } = a;
    const decay = 1 - learningRate * a.weightDecay;
    const oneMinusBeta1 = 1 - beta1;
    const oneMinusBeta2 = 1 - beta2;
    const stepSize = learningRate / a.correction1;
    const inverseCorrection2 = 1 / a.correction2;
    let nonFinite = 0;
    for (let i = 0; i < n; i++) {
      const [p, g, m, v] = [inputs[i], inputs[n + i], inputs[2 * n + i], inputs[3 * n + i]];
      const [pOut, mOut, vOut] = [outputs[i], outputs[n + i], outputs[2 * n + i]];
      for (let j = 0; j < p.length; j++) {
        const gj = g[j] * gradientScale;
        const mj = beta1 * m[j] + oneMinusBeta1 * gj;
        const vj = beta2 * v[j] + oneMinusBeta2 * gj * gj;
        mOut[j] = mj;
        vOut[j] = vj;
        const value = Math.fround(
          p[j] * decay - (stepSize * mj) / (Math.sqrt(vj * inverseCorrection2) + epsilon),
        );
        pOut[j] = value;
        // As stored (float32); value - value is 0 when finite, NaN for NaN and ±Infinity.
        if (value - value !== 0) nonFinite += 1;
      }
    }
    outputs[3 * n][0] = nonFinite;
  },
};

// A type, not an interface: tf.tidy returns it (it must be a TensorContainer).
export type AdamWStep = {
  params: Tensor[];
  m: Tensor[];
  v: Tensor[];
  /** [1]: how many new parameters are NaN/Inf, where the backend counts them as it writes. */
  nonFinite?: Tensor;
};

/** One AdamW step over all variables: the new params, m and v, in variable order. */
export function fusedAdamW(
  params: Tensor[],
  grads: Tensor[],
  m: Tensor[],
  v: Tensor[],
  attrs: AdamWStepAttrs,
): AdamWStep {
  const n = params.length;
  if (grads.length !== n || m.length !== n || v.length !== n) {
    throw new Error(
      `fusedAdamW: ${n} params but ${grads.length} grads, ${m.length} m, ${v.length} v`,
    );
  }
  params.forEach((p, i) => {
    for (const [label, t] of [
      ["grad", grads[i]],
      ["m", m[i]],
      ["v", v[i]],
    ] as const) {
      if (t.size !== p.size) {
        throw new Error(`fusedAdamW: ${label} ${i} has shape [${t.shape}], param [${p.shape}]`);
      }
    }
  });
  if (n === 0) return { params: [], m: [], v: [] };
  const out = engine().runKernel(
    FUSED_ADAMW,
    [...params, ...grads, ...m, ...v] as unknown as Record<string, Tensor>,
    attrs as unknown as Record<string, number>,
  ) as Tensor[];
  return {
    params: out.slice(0, n),
    m: out.slice(n, 2 * n),
    v: out.slice(2 * n, 3 * n),
    ...(out.length > 3 * n ? { nonFinite: out[3 * n] } : {}),
  };
}
