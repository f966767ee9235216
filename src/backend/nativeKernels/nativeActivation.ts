/**
 * SiLU and GELU (fusedKernels/fusedActivation.ts) on the wasm backend through the native kernels
 * (native/src/activation.cc): one vectorised pass forward and one backward.
 */
import { util, type KernelConfig } from "@tensorflow/tfjs-core";
import { allFloat32 } from "../backendScope";
import {
  checkActivation,
  FUSED_ACTIVATION,
  FUSED_ACTIVATION_GRAD,
  type ActivationAttrs,
} from "../fusedKernels/fusedActivation";
import { heapKernelConfig, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { CommandWriter } from "./nativeCommands";

const kindOf = (attrs: unknown) =>
  checkActivation((attrs as ActivationAttrs).activation) === "gelu" ? 1 : 0;

const forward: HeapPlanner = ({ x }, attrs) => {
  if (!x || x.dtype !== "float32") return undefined;
  return {
    reads: ["x"],
    outputs: [{ shape: x.shape }],
    commands: new CommandWriter()
      .add("activationForward", [0, 1], [util.sizeFromShape(x.shape), kindOf(attrs)])
      .finish(),
  };
};

const backward: HeapPlanner = ({ dy, x }, attrs) => {
  if (!dy || !x || !allFloat32([dy, x])) return undefined;
  return {
    reads: ["dy", "x"],
    outputs: [{ shape: x.shape }],
    commands: new CommandWriter()
      .add("activationBackward", [0, 1, 2], [util.sizeFromShape(x.shape), kindOf(attrs)])
      .finish(),
  };
};

export function nativeActivationConfigs(addon: NativeAddon): KernelConfig[] {
  return [
    heapKernelConfig(addon, FUSED_ACTIVATION, forward),
    heapKernelConfig(addon, FUSED_ACTIVATION_GRAD, backward),
  ];
}
