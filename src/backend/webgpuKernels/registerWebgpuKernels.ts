/**
 * fairdiff's kernels on tfjs-webgpu, registered when the WebGPU backend starts: corrections to
 * its own (AddN) and the WebGPU forms of the fused kernels. Idempotent; returns their names
 * (shown in backendInfo().addedKernels).
 */
import { getKernel, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";
import { chunkedAddNConfig } from "./chunkedAddN";
import { fusedActivationWebgpuConfigs } from "./fusedActivation";
import { fusedAdamWWebgpuConfig } from "./fusedAdamW";
import { fusedAttentionWebgpuConfigs } from "./fusedAttention";
import { fusedConvGradWebgpuConfig } from "./fusedConv2d";
import { fusedLinearWebgpuConfigs } from "./fusedLinear";
import { fusedNormWebgpuConfigs } from "./fusedNorm";
import { sumOfSquaresWebgpuConfig } from "./sumOfSquares";

let replaced: string[] | undefined;

export function registerWebgpuKernels(): string[] {
  if (replaced) return replaced;
  replaced = [];
  const stockAddN = getKernel("AddN", "webgpu");
  if (stockAddN) {
    unregisterKernel("AddN", "webgpu");
    registerKernel(chunkedAddNConfig(stockAddN));
    replaced.push("AddN");
  }
  // Ours over the composed forms the fused kernels registered (attention keeps them for what
  // ours leaves out).
  for (const config of [
    ...fusedAttentionWebgpuConfigs((name) => getKernel(name, "webgpu")),
    ...fusedLinearWebgpuConfigs,
    fusedConvGradWebgpuConfig,
  ]) {
    unregisterKernel(config.kernelName, "webgpu");
    registerKernel(config);
    replaced.push(config.kernelName);
  }
  for (const config of [
    fusedAdamWWebgpuConfig,
    ...fusedNormWebgpuConfigs,
    ...fusedActivationWebgpuConfigs,
    sumOfSquaresWebgpuConfig,
  ]) {
    registerKernel(config);
    replaced.push(config.kernelName);
  }
  return replaced;
}
