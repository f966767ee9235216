/**
 * Add of two float32 tensors of one shape on the wasm backend through the native kernel: what
 * the engine's gradient accumulation runs ~70 times in a cxr-mini training step (the text
 * context's and the time embedding's gradients from every block, a residual's two paths). As a
 * planned call a replay makes it on bare heap buffers; broadcasts and other dtypes go to
 * tfjs-wasm's Add. Float addition rounds once either way: the same floats.
 */
import { util, type KernelConfig } from "@tensorflow/tfjs-core";
import { heapKernelConfig } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { CommandWriter } from "./nativeCommands";

export function nativeAddConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  const before = previous("Add");
  const add = heapKernelConfig(
    addon,
    "Add",
    ({ a, b }) => {
      if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return undefined;
      if (!util.arraysEqual(a.shape, b.shape)) return undefined;
      return {
        reads: ["a", "b"],
        outputs: [{ shape: a.shape }],
        commands: new CommandWriter().add("add", [0, 1, 2], [util.sizeFromShape(a.shape)]).finish(),
      };
    },
    before.kernelFunc,
  );
  // tfjs-wasm's Add binds its wasm function in its setup: kept for the fallback.
  return [{ ...add, setupFunc: before.setupFunc }];
}
