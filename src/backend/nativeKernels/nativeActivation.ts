/**
 * SiLU and GELU (fusedKernels/fusedActivation.ts) on the wasm backend through the native kernels
 * (native/src/activation.cc): one vectorised pass forward and one backward.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backendScope";
import {
  checkActivation,
  FUSED_ACTIVATION,
  FUSED_ACTIVATION_GRAD,
  type ActivationAttrs,
} from "../fusedKernels/fusedActivation";
import type { NativeAddon } from "./nativeAddon";

const kindOf = (attrs: unknown) =>
  checkActivation((attrs as ActivationAttrs).activation) === "gelu" ? 1 : 0;

function forward(addon: NativeAddon): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as Record<string, TensorInfo>;
    const b = backend as WasmBackendLike;
    const y = b.makeOutput(x.shape, "float32");
    addon.activationForward(heapFloats(b, x), heapFloats(b, y), kindOf(attrs));
    return y;
  };
}

function backward(addon: NativeAddon): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs as Record<string, TensorInfo>;
    const b = backend as WasmBackendLike;
    const dx = b.makeOutput(x.shape, "float32");
    addon.activationBackward(heapFloats(b, dy), heapFloats(b, x), heapFloats(b, dx), kindOf(attrs));
    return dx;
  };
}

export function nativeActivationConfigs(addon: NativeAddon): KernelConfig[] {
  return [
    { kernelName: FUSED_ACTIVATION, backendName: "wasm", kernelFunc: forward(addon) },
    { kernelName: FUSED_ACTIVATION_GRAD, backendName: "wasm", kernelFunc: backward(addon) },
  ];
}
