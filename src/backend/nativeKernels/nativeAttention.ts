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
import { CommandWriter } from "./nativeCommands";

/** [batch, queries, keys, heads, headDim] as the addon takes them. */
function shapeParams(q: ShapeInfo, k: ShapeInfo, heads: number): Int32Array {
  const [batch, queries, width] = q.shape;
  return Int32Array.of(batch, queries, k.shape[1], heads, width / heads);
}

const forward: HeapPlanner = ({ q, k, v, keyMask }, attrs) => {
  if (!q || !k || !v || !allFloat32([q, k, v, keyMask])) return undefined;
  const { heads, scale } = attrs as unknown as AttentionAttrs;
  return {
    reads: ["q", "k", "v", "keyMask"],
    outputs: [{ shape: q.shape }],
    commands: new CommandWriter()
      .add("attentionForward", [0, 1, 2, keyMask ? 3 : null, 4], shapeParams(q, k, heads), [scale])
      .finish(),
  };
};

const backward: HeapPlanner = ({ dy, q, k, v, keyMask }, attrs) => {
  if (!dy || !q || !k || !v || !allFloat32([dy, q, k, v, keyMask])) return undefined;
  const { heads, scale } = attrs as unknown as AttentionAttrs;
  return {
    reads: ["q", "k", "v", "keyMask", "dy"],
    outputs: [{ shape: q.shape }, { shape: k.shape }, { shape: v.shape }],
    commands: new CommandWriter()
      .add(
        "attentionBackward",
        [0, 1, 2, keyMask ? 3 : null, 4, 5, 6, 7],
        shapeParams(q, k, heads),
        [scale],
      )
      .finish(),
  };
};

export function nativeAttentionConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(addon, previous, {
    [FUSED_ATTENTION]: forward,
    [FUSED_MASKED_ATTENTION]: forward,
    [FUSED_ATTENTION_GRAD]: backward,
  });
}
