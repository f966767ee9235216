/**
 * Fused attention (fusedKernels/fusedAttention.ts) on the wasm backend through the native
 * kernels (native/src/attention.cc): one pass per (image, head) that reads the heads where they
 * lie, instead of the composition's head transposes, products, softmax and elementwise kernels
 * (~20 wasm kernels a call, most of them tiny at cxr-mini's 16 tokens). A non-float32 input goes
 * to the composed kernel registered before.
 */
import type { KernelConfig } from "@tensorflow/tfjs-core";
import { allFloat32 } from "../backendScope";
import {
  FUSED_ATTENTION,
  FUSED_ATTENTION_GRAD,
  FUSED_MASKED_ATTENTION,
  type AttentionAttrs,
} from "../fusedKernels/fusedAttention";
import { heapKernelsOver, type HeapPlanner, type ShapeInfo } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";

/** [batch, queries, keys, heads, headDim] as the addon takes them. */
function shapeParams(q: ShapeInfo, k: ShapeInfo, heads: number): Int32Array {
  const [batch, queries, width] = q.shape;
  return Int32Array.of(batch, queries, k.shape[1], heads, width / heads);
}

function forward(addon: NativeAddon): HeapPlanner {
  return ({ q, k, v, keyMask }, attrs) => {
    if (!q || !k || !v || !allFloat32([q, k, v, keyMask])) return undefined;
    const { heads, scale } = attrs as unknown as AttentionAttrs;
    const params = shapeParams(q, k, heads);
    return {
      reads: ["q", "k", "v", "keyMask"],
      outputs: [{ shape: q.shape }],
      run([qs, ks, vs, mask], [out]) {
        addon.attentionForward(
          qs as Float32Array,
          ks as Float32Array,
          vs as Float32Array,
          mask,
          out,
          params,
          scale,
        );
      },
    };
  };
}

function backward(addon: NativeAddon): HeapPlanner {
  return ({ dy, q, k, v, keyMask }, attrs) => {
    if (!dy || !q || !k || !v || !allFloat32([dy, q, k, v, keyMask])) return undefined;
    const { heads, scale } = attrs as unknown as AttentionAttrs;
    const params = shapeParams(q, k, heads);
    return {
      reads: ["q", "k", "v", "keyMask", "dy"],
      outputs: [{ shape: q.shape }, { shape: k.shape }, { shape: v.shape }],
      run([qs, ks, vs, mask, dys], [dq, dk, dv]) {
        addon.attentionBackward(
          qs as Float32Array,
          ks as Float32Array,
          vs as Float32Array,
          mask,
          dys as Float32Array,
          dq,
          dk,
          dv,
          params,
          scale,
        );
      },
    };
  };
}

export function nativeAttentionConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(previous, {
    [FUSED_ATTENTION]: forward(addon),
    [FUSED_MASKED_ATTENTION]: forward(addon),
    [FUSED_ATTENTION_GRAD]: backward(addon),
  });
}
