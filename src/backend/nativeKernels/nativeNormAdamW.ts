/**
 * The fused norm (forward, backward) and the multi-tensor AdamW on the wasm backend through the
 * native kernels (native/src/norm.cc, adamw.cc): one pass per row over channels-last data with
 * vectorised SiLU, and AdamW in double precision exactly as fusedAdamW.ts's loop rounds.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backendScope";
import { adamWSettingsInOrder, fusedAdamWHost } from "../fusedKernels/fusedAdamW";
import { FUSED_NORM, FUSED_NORM_GRAD, normLayout, type NormAttrs } from "../fusedKernels/fusedNorm";
import { sumOfSquaresHost } from "../fusedKernels/fusedSumOfSquares";
import { wasmHostKernelConfig } from "../fusedKernels/hostKernel";
import type { NativeAddon } from "./nativeAddon";

function normParams(shape: number[], attrs: NormAttrs): Int32Array {
  const l = normLayout(shape, attrs);
  return Int32Array.of(l.rows, l.spatial, l.channels, l.groups, attrs.silu ? 1 : 0);
}

function normForward(addon: NativeAddon): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
    const a = attrs as unknown as NormAttrs;
    const b = backend as WasmBackendLike;
    const y = b.makeOutput(x.shape, "float32");
    addon.normForward(
      heapFloats(b, x),
      heapFloats(b, gamma),
      heapFloats(b, beta),
      heapFloats(b, y),
      normParams(x.shape, a),
      a.epsilon,
    );
    return y;
  };
}

function normBackward(addon: NativeAddon): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, gamma, beta } = inputs as Record<string, TensorInfo>;
    const a = attrs as unknown as NormAttrs;
    const b = backend as WasmBackendLike;
    const outputs = [x.shape, gamma.shape, beta.shape].map((s) => b.makeOutput(s, "float32"));
    const [dx, dGamma, dBeta] = outputs.map((t) => heapFloats(b, t));
    addon.normBackward(
      heapFloats(b, dy),
      heapFloats(b, x),
      heapFloats(b, gamma),
      heapFloats(b, beta),
      dx,
      dGamma,
      dBeta,
      normParams(x.shape, a),
      a.epsilon,
    );
    return outputs;
  };
}

export function nativeNormAdamWConfigs(addon: NativeAddon): KernelConfig[] {
  const adamW = wasmHostKernelConfig({
    ...fusedAdamWHost,
    compute(inputs, outputs, _shapes, attrs) {
      const n = inputs.length / 4;
      const part = (list: Float32Array[], i: number) => list.slice(i * n, (i + 1) * n);
      outputs[3 * n][0] = addon.adamW(
        part(inputs, 0),
        part(inputs, 1),
        part(inputs, 2),
        part(inputs, 3),
        part(outputs, 0),
        part(outputs, 1),
        part(outputs, 2),
        Float64Array.from(adamWSettingsInOrder(attrs)),
      );
    },
  });
  // The global gradient norm, vectorised in double: ~0.6 ms for cxr-mini's 1.5 M gradients, where
  // the host kernel's plain loop took ~4.
  const sumOfSquares = wasmHostKernelConfig({
    ...sumOfSquaresHost,
    compute(inputs, outputs) {
      let total = 0;
      for (const values of inputs) total += addon.sumOfSquares(values);
      outputs[0][0] = total;
    },
  });
  return [
    { kernelName: FUSED_NORM, backendName: "wasm", kernelFunc: normForward(addon) },
    { kernelName: FUSED_NORM_GRAD, backendName: "wasm", kernelFunc: normBackward(addon) },
    adamW,
    sumOfSquares,
  ];
}
