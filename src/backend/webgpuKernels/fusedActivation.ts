/**
 * SiLU and GELU (fusedKernels/fusedActivation.ts) in WGSL: one elementwise dispatch forward and
 * one backward, the activation baked into the shader.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import {
  checkActivation,
  FUSED_ACTIVATION,
  FUSED_ACTIVATION_GRAD,
  GELU_CUBIC,
  GELU_SCALE,
  type ActivationAttrs,
  type ActivationName,
} from "../fusedKernels/fusedActivation";
import { elementwiseProgram, type WebgpuBackendLike } from "./webgpuProgram";

const float = (v: number) => v.toPrecision(9);

/** For the element xi: s = σ(the logistic's argument) and dv, that argument's slope. */
function logistic(activation: ActivationName): string {
  if (activation === "silu") return "let s = 1.0 / (1.0 + exp(-xi)); let dv = 1.0;";
  return `let s = 1.0 / (1.0 + exp(-xi * (${float(GELU_SCALE)} + ${float(GELU_SCALE * GELU_CUBIC)} * xi * xi)));
          let dv = ${float(GELU_SCALE)} + ${float(3 * GELU_SCALE * GELU_CUBIC)} * xi * xi;`;
}

function run(
  backend: unknown,
  name: string,
  inputs: TensorInfo[],
  variableNames: string[],
  activation: ActivationName,
  body: string,
): TensorInfo {
  const shape = inputs[inputs.length - 1].shape;
  return (backend as WebgpuBackendLike).runWebGPUProgram(
    elementwiseProgram(
      `${name}_${activation}_${shape.length}`,
      variableNames,
      shape,
      "",
      `let xi = x[index];
       ${logistic(activation)}
       ${body}`,
    ),
    inputs,
    "float32",
  );
}

const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as Record<string, TensorInfo>;
  const activation = checkActivation((attrs as unknown as ActivationAttrs).activation);
  return run(
    backend,
    "fairdiffActivation",
    [x],
    ["x"],
    activation,
    "setOutputAtIndex(index, xi * s);",
  );
};

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as Record<string, TensorInfo>;
  const activation = checkActivation((attrs as unknown as ActivationAttrs).activation);
  return run(
    backend,
    "fairdiffActivationGrad",
    [dy, x],
    ["dy", "x"],
    activation,
    "setOutputAtIndex(index, dy[index] * (s + xi * s * (1.0 - s) * dv));",
  );
};

export const fusedActivationWebgpuConfigs: KernelConfig[] = [
  { kernelName: FUSED_ACTIVATION, backendName: "webgpu", kernelFunc: forward },
  { kernelName: FUSED_ACTIVATION_GRAD, backendName: "webgpu", kernelFunc: backward },
];
