/**
 * fairdiff's corrections to tfjs-webgpu, registered when the WebGPU backend starts. Idempotent;
 * returns the names of the kernels it replaced (shown in backendInfo().addedKernels).
 */
import { getKernel, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";
import { chunkedAddNConfig } from "./chunkedAddN";

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
  return replaced;
}
