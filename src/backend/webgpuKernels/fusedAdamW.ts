/**
 * The multi-tensor AdamW kernel on WebGPU: per variable, three dispatches (new moment 1, new
 * moment 2, new parameter) reading param, grad, m, v once each, instead of ~15 elementwise
 * kernels. The arithmetic is fusedKernels/fusedAdamW.ts's, in WGSL.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { adamWSettingsInOrder, FUSED_ADAMW, type AdamWStepAttrs } from "../fusedKernels/fusedAdamW";
import { elementwiseProgram, type WebgpuBackendLike } from "./webgpuProgram";

const UNIFORMS =
  "learningRate : f32, weightDecay : f32, beta1 : f32, beta2 : f32, epsilon : f32, correction1 : f32, correction2 : f32, gradientScale : f32,";

// \`_ = param[index]\` keeps every input bound in all three programs: Dawn's automatic layout
// drops a binding a shader does not use, and tfjs binds all inputs.
const MOMENTS = `
  _ = param[index];
  let g = grad[index] * uniforms.gradientScale;
  let m = uniforms.beta1 * moment1[index] + (1.0 - uniforms.beta1) * g;
  let v = uniforms.beta2 * moment2[index] + (1.0 - uniforms.beta2) * g * g;`;

const OUTPUTS = {
  moment1: `${MOMENTS}\n  setOutputAtIndex(index, m);`,
  moment2: `${MOMENTS}\n  setOutputAtIndex(index, v);`,
  param: `${MOMENTS}
  let update = (m / uniforms.correction1) / (sqrt(v / uniforms.correction2) + uniforms.epsilon);
  let decay = 1.0 - uniforms.learningRate * uniforms.weightDecay;
  setOutputAtIndex(index, param[index] * decay - uniforms.learningRate * update);`,
};

const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendLike;
  const a = attrs as unknown as AdamWStepAttrs;
  const list = Object.values(inputs) as TensorInfo[];
  const n = list.length / 4;
  const uniforms = adamWSettingsInOrder(a).map((x) => ({ type: "float32" as const, data: [x] }));
  const outputs: TensorInfo[][] = [[], [], []];
  for (let i = 0; i < n; i++) {
    const variables = [list[i], list[n + i], list[2 * n + i], list[3 * n + i]];
    (["param", "moment1", "moment2"] as const).forEach((output, k) => {
      const program = elementwiseProgram(
        `fairdiffAdamW_${output}`,
        ["param", "grad", "moment1", "moment2"],
        variables[0].shape,
        UNIFORMS,
        OUTPUTS[output],
      );
      outputs[k].push(webgpu.runWebGPUProgram(program, variables, "float32", uniforms));
    });
  }
  return outputs.flat();
};

export const fusedAdamWWebgpuConfig: KernelConfig = {
  kernelName: FUSED_ADAMW,
  backendName: "webgpu",
  kernelFunc,
};
