/**
 * fairdiff's fused kernels, registered when this module loads: for wasm and cpu, AdamW (written
 * over the host arrays) and the norms (composed from the backend's own kernels), whose WebGPU
 * forms come with the WebGPU backend (webgpuKernels/); the composed dense layer for all three
 * backends (fusedLinear.ts registers itself).
 */
import { registerHostKernel, type HostKernel } from "./hostKernel";
import { fusedAdamWHost } from "./fusedAdamW";
import { FUSED_LINEAR, FUSED_LINEAR_GRAD } from "./fusedLinear";
import { registerComposedNorm } from "./composedNorm";

export const FUSED_HOST_KERNELS = [fusedAdamWHost];

let registered: string[] | undefined;

export function registerFusedKernels(): string[] {
  if (!registered) {
    for (const kernel of FUSED_HOST_KERNELS) registerHostKernel(kernel as HostKernel<never>);
    registered = [
      ...FUSED_HOST_KERNELS.map((k) => k.name),
      ...registerComposedNorm(),
      FUSED_LINEAR,
      FUSED_LINEAR_GRAD,
    ];
  }
  return registered;
}

registerFusedKernels();
