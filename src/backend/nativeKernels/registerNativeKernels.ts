/**
 * Puts the native kernels (nativeAddon.ts) in place of the wasm backend's matrix products,
 * convolutions (fused ones with their addend, and their backwards), fused dense layers (and their
 * backwards), norms, SiLU / GELU, attention, AdamW, float32 arithmetic (Add, Sub, Multiply,
 * RealDiv, Sum, Mean) and Concat and SplitV natively, keeping each replaced kernel as
 * the fallback for what the native one does not cover and for tests that compare the two. Run
 * after registerWasmTrainingKernels.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
} from "@tensorflow/tfjs-core";
import { loadNativeKernels, type NativeStatus } from "./nativeAddon";
import { nativeActivationConfigs } from "./nativeActivation";
import { nativeArithmeticConfigs } from "./nativeArithmetic";
import { nativeAttentionConfigs } from "./nativeAttention";
import { nativeConvConfigs } from "./nativeConv";
import { nativeFusedBackwardConfigs } from "./nativeFusedBackward";
import { nativeFusedForwardConfigs } from "./nativeFusedForward";
import { nativeMatMulConfigs } from "./nativeMatMul";
import { nativeNormAdamWConfigs } from "./nativeNormAdamW";
import { nativeRowCopyConfigs } from "./nativeRowCopies";

/** The wasm kernels the native ones replaced, by name. */
const replaced = new Map<string, KernelConfig>();
let status: NativeStatus | undefined;

function previous(name: string): KernelConfig {
  const config = getKernel(name, "wasm");
  if (!config) throw new Error(`wasm backend has no ${name} kernel to put native kernels over`);
  return config;
}

/** Registers the native kernels for wasm when the addon loads; says what runs. Idempotent. */
export function registerNativeKernels(): { status: NativeStatus; kernels: string[] } {
  status ??= loadNativeKernels();
  const { addon } = status;
  if (addon && replaced.size === 0) {
    const configs = [
      ...nativeMatMulConfigs(addon, previous),
      ...nativeConvConfigs(addon, previous),
      ...nativeNormAdamWConfigs(addon),
      ...nativeActivationConfigs(addon),
      ...nativeAttentionConfigs(addon, previous),
      ...nativeRowCopyConfigs(addon, previous),
      ...nativeFusedForwardConfigs(addon, previous),
      ...nativeFusedBackwardConfigs(addon, previous),
      ...nativeArithmeticConfigs(addon, previous),
    ];
    for (const config of configs) {
      replaced.set(config.kernelName, previous(config.kernelName));
      unregisterKernel(config.kernelName, "wasm");
      registerKernel(config);
    }
  }
  return { status, kernels: [...replaced.keys()] };
}

/** Whether the wasm backend's products and convolutions run natively (and multi-threaded). */
export function nativeKernelsActive(): boolean {
  return replaced.size > 0;
}

/** The kernel a native one replaced (for equivalence tests and benchmarks). */
export function replacedWasmKernel(name: string): KernelConfig | undefined {
  return replaced.get(name);
}
