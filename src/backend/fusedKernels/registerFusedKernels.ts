/**
 * fairdiff's fused kernels, registered when this module loads: the host-written ones (AdamW, the
 * norms) for wasm and cpu, whose WebGPU forms come with the WebGPU backend (webgpuKernels/); the
 * composed dense layer for all three backends (fusedLinear.ts registers itself).
 */
import { registerHostKernel, type HostKernel } from "./hostKernel";
import { fusedAdamWHost } from "./fusedAdamW";
import { FUSED_LINEAR, FUSED_LINEAR_GRAD } from "./fusedLinear";
import { fusedNormGradHost, fusedNormHost } from "./fusedNorm";

export const FUSED_HOST_KERNELS = [fusedAdamWHost, fusedNormHost, fusedNormGradHost];

let registered = false;

export function registerFusedKernels(): string[] {
  if (!registered) {
    for (const kernel of FUSED_HOST_KERNELS) registerHostKernel(kernel as HostKernel<never>);
    registered = true;
  }
  return [...FUSED_HOST_KERNELS.map((k) => k.name), FUSED_LINEAR, FUSED_LINEAR_GRAD];
}

registerFusedKernels();
