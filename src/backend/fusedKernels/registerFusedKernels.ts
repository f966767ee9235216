/**
 * fairdiff's fused kernels, registered for the CPU backends (wasm, cpu) when this module loads;
 * their WebGPU forms are registered with the WebGPU backend (webgpuKernels/).
 */
import { registerHostKernel, type HostKernel } from "./hostKernel";
import { fusedAdamWHost } from "./fusedAdamW";
import { fusedNormGradHost, fusedNormHost } from "./fusedNorm";

export const FUSED_HOST_KERNELS = [fusedAdamWHost, fusedNormHost, fusedNormGradHost];

let registered = false;

export function registerFusedKernels(): string[] {
  if (!registered) {
    for (const kernel of FUSED_HOST_KERNELS) registerHostKernel(kernel as HostKernel<never>);
    registered = true;
  }
  return FUSED_HOST_KERNELS.map((k) => k.name);
}

registerFusedKernels();
