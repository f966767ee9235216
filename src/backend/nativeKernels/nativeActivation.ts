/**
 * SiLU and GELU (fusedKernels/fusedActivation.ts) on the wasm backend through the native kernels
 * (native/src/activation.cc): one vectorised pass forward and one backward.
 */
import type { KernelConfig } from "@tensorflow/tfjs-core";
import { allFloat32 } from "../backendScope";
import {
  checkActivation,
  FUSED_ACTIVATION,
  FUSED_ACTIVATION_GRAD,
  type ActivationAttrs,
} from "../fusedKernels/fusedActivation";
import { heapKernelConfig, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";

const kindOf = (attrs: unknown) =>
  checkActivation((attrs as ActivationAttrs).activation) === "gelu" ? 1 : 0;

function forward(addon: NativeAddon): HeapPlanner {
  return ({ x }, attrs) => {
    if (!x || x.dtype !== "float32") return undefined;
    const kind = kindOf(attrs);
    return {
      reads: ["x"],
      outputs: [{ shape: x.shape }],
      run([xs], [y]) {
        addon.activationForward(xs as Float32Array, y, kind);
      },
    };
  };
}

function backward(addon: NativeAddon): HeapPlanner {
  return ({ dy, x }, attrs) => {
    if (!dy || !x || !allFloat32([dy, x])) return undefined;
    const kind = kindOf(attrs);
    return {
      reads: ["dy", "x"],
      outputs: [{ shape: x.shape }],
      run([dys, xs], [dx]) {
        addon.activationBackward(dys as Float32Array, xs as Float32Array, dx, kind);
      },
    };
  };
}

export function nativeActivationConfigs(addon: NativeAddon): KernelConfig[] {
  return [
    heapKernelConfig(FUSED_ACTIVATION, forward(addon)),
    heapKernelConfig(FUSED_ACTIVATION_GRAD, backward(addon)),
  ];
}
