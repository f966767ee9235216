/**
 * SiLU and GELU as differentiable ops: one forward kernel, and a gradient that is one backward
 * kernel (fusedActivation.ts has the arithmetic).
 */
import { engine, type NamedAttrMap, type Tensor } from "@tensorflow/tfjs-core";
import { registerFusedGradient } from "./fusedGradient";
import {
  checkActivation,
  FUSED_ACTIVATION,
  FUSED_ACTIVATION_GRAD,
  type ActivationName,
} from "./fusedActivation";
import "./registerFusedKernels";

registerFusedGradient({
  kernelName: FUSED_ACTIVATION,
  gradKernelName: FUSED_ACTIVATION_GRAD,
  inputsToSave: ["x"],
  gradients: ["x"],
});

/** `activation`(x) elementwise, for a float32 x of any shape. */
export function fusedActivation(x: Tensor, activation: ActivationName): Tensor {
  checkActivation(activation);
  if (x.dtype !== "float32") {
    throw new Error(`fused activation: x must be float32, got ${x.dtype}`);
  }
  const attrs = { activation } as unknown as NamedAttrMap;
  return engine().runKernel(FUSED_ACTIVATION, { x }, attrs) as Tensor;
}
