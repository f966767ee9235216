/**
 * Multi-head scaled dot-product attention, softmax(q·kᵀ·scale + keyBias)·v, as one kernel
 * forward and one backward, composed inside the kernel from the backend's own BatchMatMul,
 * Softmax and elementwise kernels (wasm and cpu; on WebGPU under webgpuKernels/fusedAttention.ts,
 * which keeps it for wide heads; natively on wasm where built). tfjs's ops would record the head
 * split and merge (reshapes, transposes), two products, the scaling, the mask and the softmax
 * separately, each with its own gradient. The backward recomputes the softmax from q and k, so
 * the forward saves only its inputs.
 *
 *   dV = wᵀ·dO,  dW = dO·vᵀ,  dS = w ⊙ (dW − Σ_keys dW ⊙ w)·scale,  dQ = dS·k,  dK = dSᵀ·q
 */
import {
  engine,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { registerFusedGradient, registerOnBackends, type FusedBackend } from "./fusedGradient";

export const FUSED_ATTENTION = "FairdiffFusedAttention";
/** The same with a key mask: a separate name, because a kernel's saved inputs are fixed. */
export const FUSED_MASKED_ATTENTION = "FairdiffFusedMaskedAttention";
export const FUSED_ATTENTION_GRAD = "FairdiffFusedAttentionGrad";

export interface AttentionAttrs {
  heads: number;
  /** Multiplies q·kᵀ (usually 1/√headDim). */
  scale: number;
}

export interface AttentionLayout {
  batch: number;
  queries: number;
  keys: number;
  heads: number;
  headDim: number;
}

export function attentionLayout(q: TensorInfo, k: TensorInfo, heads: number): AttentionLayout {
  const [batch, queries, width] = q.shape;
  return { batch, queries, keys: k.shape[1], heads, headDim: width / heads };
}

/** [B, T, H·d] → [B·H, T, d]. */
function splitHeads(
  scope: KernelScope,
  x: TensorInfo,
  l: AttentionLayout,
  tokens: number,
): TensorInfo {
  const four = scope.reshape(x, [l.batch, tokens, l.heads, l.headDim]);
  const heads = scope.transpose(four, [0, 2, 1, 3]);
  return scope.reshape(heads, [l.batch * l.heads, tokens, l.headDim]);
}

/** [B·H, T, d] → [B, T, H·d]. */
function mergeHeads(
  scope: KernelScope,
  x: TensorInfo,
  l: AttentionLayout,
  tokens: number,
): TensorInfo {
  const four = scope.reshape(x, [l.batch, l.heads, tokens, l.headDim]);
  const tokensFirst = scope.transpose(four, [0, 2, 1, 3]);
  return scope.reshape(tokensFirst, [l.batch, tokens, l.heads * l.headDim]);
}

/** Additive bias that removes masked keys from the softmax (large, finite: no NaN if all masked). */
const MASKED = 1e9;

/** The attention weights softmax(q·kᵀ·scale + bias), [B·H, N, M], and the split q, k, v. */
function weights(scope: KernelScope, inputs: Record<string, TensorInfo>, a: AttentionAttrs) {
  const { q, k, v, keyMask } = inputs;
  const l = attentionLayout(q, k, a.heads);
  const q3 = splitHeads(scope, q, l, l.queries);
  const k3 = splitHeads(scope, k, l, l.keys);
  const v3 = splitHeads(scope, v, l, l.keys);
  const products = scope.run(
    "BatchMatMul",
    { a: q3, b: k3 },
    { transposeA: false, transposeB: true },
  );
  let scores = scope.run("Multiply", { a: products, b: scope.scalar(a.scale) });
  if (keyMask) {
    const grouped = scope.reshape(scores, [l.batch, l.heads, l.queries, l.keys]);
    // (mask − 1)·1e9: 0 for a kept key, −1e9 for a hidden one — computed here, not by two
    // more engine kernels in every attention call.
    const keyBias = scope.run("Multiply", {
      a: scope.run("Sub", { a: keyMask, b: scope.scalar(1) }),
      b: scope.scalar(MASKED),
    });
    const bias = scope.reshape(keyBias, [l.batch, 1, 1, l.keys]);
    scores = scope.reshape(scope.run("Add", { a: grouped, b: bias }), [
      l.batch * l.heads,
      l.queries,
      l.keys,
    ]);
  }
  const w = scope.run("Softmax", { logits: scores }, { dim: 2 });
  return { l, q3, k3, v3, w };
}

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const scope = KernelScope.of(backend, backendName);
    const { l, v3, w } = weights(
      scope,
      inputs as Record<string, TensorInfo>,
      attrs as unknown as AttentionAttrs,
    );
    const mixed = scope.run(
      "BatchMatMul",
      { a: w, b: v3 },
      { transposeA: false, transposeB: false },
    );
    return scope.close(mergeHeads(scope, mixed, l, l.queries));
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as AttentionAttrs;
    const scope = KernelScope.of(backend, backendName);
    const named = inputs as Record<string, TensorInfo>;
    const { l, q3, k3, v3, w } = weights(scope, named, a);
    const dO = splitHeads(scope, named.dy, l, l.queries);
    const plain = { transposeA: false, transposeB: false };
    const dV = scope.run("BatchMatMul", { a: w, b: dO }, { ...plain, transposeA: true });
    const dW = scope.run("BatchMatMul", { a: dO, b: v3 }, { ...plain, transposeB: true });
    const rowDot = scope.run(
      "Sum",
      { x: scope.run("Multiply", { a: dW, b: w }) },
      { axis: [2], keepDims: true },
    );
    const dScores = scope.run("Multiply", {
      a: scope.run("Multiply", { a: w, b: scope.run("Sub", { a: dW, b: rowDot }) }),
      b: scope.scalar(a.scale),
    });
    const dQ = scope.run("BatchMatMul", { a: dScores, b: k3 }, plain);
    const dK = scope.run("BatchMatMul", { a: dScores, b: q3 }, { ...plain, transposeA: true });
    return scope.closeKeeping([
      mergeHeads(scope, dQ, l, l.queries),
      mergeHeads(scope, dK, l, l.keys),
      mergeHeads(scope, dV, l, l.keys),
    ]);
  };
}

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;
registerOnBackends(FUSED_ATTENTION, BACKENDS, forward);
registerOnBackends(FUSED_MASKED_ATTENTION, BACKENDS, forward);
registerOnBackends(FUSED_ATTENTION_GRAD, BACKENDS, backward);
const gradients = ["q", "k", "v"];
registerFusedGradient({
  kernelName: FUSED_ATTENTION,
  gradKernelName: FUSED_ATTENTION_GRAD,
  inputsToSave: gradients,
  gradients,
});
registerFusedGradient({
  kernelName: FUSED_MASKED_ATTENTION,
  gradKernelName: FUSED_ATTENTION_GRAD,
  inputsToSave: [...gradients, "keyMask"],
  gradients,
  // The mask comes from the prompt's padding, never from a trained value.
  constants: ["keyMask"],
});

/**
 * Multi-head attention on projected tokens: q [B, N, H·d], k and v [B, M, H·d], keyMask [B, M]
 * (1 for a real token, 0 for padding: the key is hidden from every query). Returns [B, N, H·d].
 */
export function fusedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  attrs: AttentionAttrs,
  keyMask?: Tensor,
): Tensor {
  const [batch, , width] = q.shape;
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) {
    throw new Error(
      `fused attention: q, k, v must be [B, T, H·d], got [${q.shape}], [${k.shape}], [${v.shape}]`,
    );
  }
  if (width % attrs.heads !== 0) {
    throw new Error(`fused attention: width ${width} does not split into ${attrs.heads} heads`);
  }
  if (
    k.shape[0] !== batch ||
    v.shape[0] !== batch ||
    k.shape[2] !== width ||
    v.shape[2] !== width ||
    k.shape[1] !== v.shape[1]
  ) {
    throw new Error(
      `fused attention: k [${k.shape}] and v [${v.shape}] do not match q [${q.shape}]`,
    );
  }
  if (
    keyMask &&
    (keyMask.rank !== 2 || keyMask.shape[0] !== batch || keyMask.shape[1] !== k.shape[1])
  ) {
    throw new Error(`fused attention: key mask [${keyMask.shape}] ≠ [${batch}, ${k.shape[1]}]`);
  }
  const named = attrs as unknown as NamedAttrMap;
  return (
    keyMask
      ? engine().runKernel(FUSED_MASKED_ATTENTION, { q, k, v, keyMask }, named)
      : engine().runKernel(FUSED_ATTENTION, { q, k, v }, named)
  ) as Tensor;
}
