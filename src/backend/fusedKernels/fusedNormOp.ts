/**
 * The fused normalisation as a differentiable op: one forward kernel, and a gradient that is one
 * backward kernel computing dx, dγ and dβ together (fusedNorm.ts has the arithmetic).
 */
import { engine, type NamedAttrMap, type Tensor } from "@tensorflow/tfjs-core";
import { registerFusedGradient } from "./fusedGradient";
import { FUSED_NORM, FUSED_NORM_GRAD, normLayout, type NormAttrs } from "./fusedNorm";
import "./registerFusedKernels";

registerFusedGradient({
  kernelName: FUSED_NORM,
  gradKernelName: FUSED_NORM_GRAD,
  inputsToSave: ["x", "gamma", "beta"],
  gradients: ["x", "gamma", "beta"],
});

/** Normalises `x` per (row, group), scales by γ, shifts by β, optionally applies SiLU. */
export function fusedNorm(x: Tensor, gamma: Tensor, beta: Tensor, attrs: NormAttrs): Tensor {
  const layout = normLayout(x.shape, attrs);
  for (const [name, t] of [
    ["gamma", gamma],
    ["beta", beta],
  ] as const) {
    if (t.rank !== 1 || t.shape[0] !== layout.channels) {
      throw new Error(`fused norm: ${name} has shape [${t.shape}], expected [${layout.channels}]`);
    }
  }
  return engine().runKernel(
    FUSED_NORM,
    { x, gamma, beta },
    attrs as unknown as NamedAttrMap,
  ) as Tensor;
}
