/**
 * Fused attention (fusedKernels/fusedAttention.ts) on the wasm backend through the native
 * kernels (native/src/attention.cc): one pass per (image, head) that reads the heads where they
 * lie, instead of the composition's head transposes, products, softmax and elementwise kernels
 * (~20 wasm kernels a call, most of them tiny at cxr-mini's 16 tokens). A non-float32 input goes
 * to the composed kernel registered before.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { allFloat32, heapFloats, type WasmBackendLike } from "../backendScope";
import {
  FUSED_ATTENTION,
  FUSED_ATTENTION_GRAD,
  FUSED_MASKED_ATTENTION,
  type AttentionAttrs,
} from "../fusedKernels/fusedAttention";
import type { NativeAddon } from "./nativeAddon";

/** [batch, queries, keys, heads, headDim] as the addon takes them. */
function shapeParams(q: TensorInfo, k: TensorInfo, heads: number): Int32Array {
  const [batch, queries, width] = q.shape;
  return Int32Array.of(batch, queries, k.shape[1], heads, width / heads);
}

/** The heap views of q, k, v and the mask (or null), as both addon calls take them first. */
function operandViews(
  b: WasmBackendLike,
  q: TensorInfo,
  k: TensorInfo,
  v: TensorInfo,
  mask?: TensorInfo,
) {
  return [
    heapFloats(b, q),
    heapFloats(b, k),
    heapFloats(b, v),
    mask ? heapFloats(b, mask) : null,
  ] as const;
}

function forward(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { q, k, v, keyMask } = args.inputs as Record<string, TensorInfo | undefined>;
    if (!q || !k || !v || !allFloat32([q, k, v, keyMask])) return fallback(args);
    const { heads, scale } = args.attrs as unknown as AttentionAttrs;
    const b = args.backend as WasmBackendLike;
    const out = b.makeOutput(q.shape, "float32");
    addon.attentionForward(
      ...operandViews(b, q, k, v, keyMask),
      heapFloats(b, out),
      shapeParams(q, k, heads),
      scale,
    );
    return out;
  };
}

function backward(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, q, k, v, keyMask } = args.inputs as Record<string, TensorInfo | undefined>;
    if (!dy || !q || !k || !v || !allFloat32([dy, q, k, v, keyMask])) return fallback(args);
    const { heads, scale } = args.attrs as unknown as AttentionAttrs;
    const b = args.backend as WasmBackendLike;
    // Allocated before any heap view is taken: an allocation can move the heap.
    const dq = b.makeOutput(q.shape, "float32");
    const dk = b.makeOutput(k.shape, "float32");
    const dv = b.makeOutput(v.shape, "float32");
    addon.attentionBackward(
      ...operandViews(b, q, k, v, keyMask),
      heapFloats(b, dy),
      heapFloats(b, dq),
      heapFloats(b, dk),
      heapFloats(b, dv),
      shapeParams(q, k, heads),
      scale,
    );
    return [dq, dk, dv];
  };
}

export function nativeAttentionConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return [
    {
      kernelName: FUSED_ATTENTION,
      kernelFunc: forward(addon, previous(FUSED_ATTENTION).kernelFunc),
    },
    {
      kernelName: FUSED_MASKED_ATTENTION,
      kernelFunc: forward(addon, previous(FUSED_MASKED_ATTENTION).kernelFunc),
    },
    {
      kernelName: FUSED_ATTENTION_GRAD,
      kernelFunc: backward(addon, previous(FUSED_ATTENTION_GRAD).kernelFunc),
    },
  ].map((config) => ({ ...config, backendName: "wasm" }));
}
