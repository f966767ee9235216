/**
 * fairdiff's fused kernels, registered when this module loads: for wasm and cpu, AdamW (written
 * over the host arrays), the norms and SiLU / GELU (composed from the backend's own kernels),
 * whose WebGPU forms come with the WebGPU backend (webgpuKernels/); the composed dense layer,
 * convolution and attention for all three backends (fusedLinear.ts, fusedConv2d.ts and
 * fusedAttention.ts register themselves; the WebGPU backend puts WGSL over some of them).
 */
import { registerHostKernel, type HostKernel } from "./hostKernel";
import { fusedAdamWHost } from "./fusedAdamW";
import { sumOfSquaresHost } from "./fusedSumOfSquares";
import { FUSED_LINEAR, FUSED_LINEAR_GRAD, FUSED_LINEAR_RESIDUAL } from "./fusedLinear";
import { FUSED_CONV, FUSED_CONV_ADD, FUSED_CONV_GRAD } from "./fusedConv2d";
import { FUSED_ATTENTION, FUSED_ATTENTION_GRAD, FUSED_MASKED_ATTENTION } from "./fusedAttention";
import { registerComposedNorm } from "./composedNorm";
import { registerComposedActivation } from "./fusedActivation";

export const FUSED_HOST_KERNELS = [fusedAdamWHost, sumOfSquaresHost];

/** Composed from each backend's own kernels: registered for wasm, cpu and WebGPU alike. */
export const COMPOSED_ON_EVERY_BACKEND = [
  FUSED_LINEAR,
  FUSED_LINEAR_RESIDUAL,
  FUSED_LINEAR_GRAD,
  FUSED_CONV,
  FUSED_CONV_ADD,
  FUSED_CONV_GRAD,
  FUSED_ATTENTION,
  FUSED_MASKED_ATTENTION,
  FUSED_ATTENTION_GRAD,
];

let registered: string[] | undefined;

export function registerFusedKernels(): string[] {
  if (!registered) {
    for (const kernel of FUSED_HOST_KERNELS) registerHostKernel(kernel as HostKernel<never>);
    registered = [
      ...FUSED_HOST_KERNELS.map((k) => k.name),
      ...registerComposedNorm(),
      ...registerComposedActivation(),
      ...COMPOSED_ON_EVERY_BACKEND,
    ];
  }
  return registered;
}

registerFusedKernels();
