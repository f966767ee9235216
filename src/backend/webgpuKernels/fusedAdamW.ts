/**
 * The multi-tensor AdamW kernel on WebGPU: one dispatch per variable reads param, grad, m and v
 * once and writes the new param and both moments (encodeDispatch.ts: a tfjs program writes one
 * output, so this took three dispatches per variable), and counts new parameters that are NaN or
 * ±Inf into one shared counter with atomics — the step's finiteness check without the ~2
 * dispatches per variable a sum of each would take. The arithmetic is fusedKernels/fusedAdamW.ts's,
 * in WGSL. The count is an int32 [1] tensor (the host kernels' is float32).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { adamWSettingsInOrder, FUSED_ADAMW, type AdamWStepAttrs } from "../fusedKernels/fusedAdamW";
import {
  encodeDispatch,
  gpuTensor,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;

const code = () => `
@group(0) @binding(0) var<storage, read> param : array<f32>;
@group(0) @binding(1) var<storage, read> grad : array<f32>;
@group(0) @binding(2) var<storage, read> moment1 : array<f32>;
@group(0) @binding(3) var<storage, read> moment2 : array<f32>;
@group(0) @binding(4) var<storage, read_write> newParam : array<f32>;
@group(0) @binding(5) var<storage, read_write> newMoment1 : array<f32>;
@group(0) @binding(6) var<storage, read_write> newMoment2 : array<f32>;
@group(0) @binding(7) var<storage, read_write> nonFinite : array<atomic<i32>>;
struct Uniforms {
  learningRate : f32, weightDecay : f32, beta1 : f32, beta2 : f32, epsilon : f32,
  correction1 : f32, correction2 : f32, gradientScale : f32, size : i32, rowStride : i32,
};
@group(0) @binding(8) var<uniform> uniforms : Uniforms;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let index = i32(id.x) + i32(id.y) * uniforms.rowStride;
  if (index >= uniforms.size) { return; }
  let g = grad[index] * uniforms.gradientScale;
  let m = uniforms.beta1 * moment1[index] + (1.0 - uniforms.beta1) * g;
  let v = uniforms.beta2 * moment2[index] + (1.0 - uniforms.beta2) * g * g;
  let update = (m / uniforms.correction1) / (sqrt(v / uniforms.correction2) + uniforms.epsilon);
  let decay = 1.0 - uniforms.learningRate * uniforms.weightDecay;
  let p = param[index] * decay - uniforms.learningRate * update;
  newParam[index] = p;
  newMoment1[index] = m;
  newMoment2[index] = v;
  // All exponent bits set: NaN or ±Inf (bits, not arithmetic a compiler may assume finite).
  if ((bitcast<u32>(p) & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&nonFinite[0], 1);
  }
}`;

const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const settings = adamWSettingsInOrder(attrs as unknown as AdamWStepAttrs).map((x) => ({
    type: "float32" as const,
    data: [x],
  }));
  const list = Object.values(inputs) as TensorInfo[];
  const n = list.length / 4;
  const nonFinite = gpuTensor(webgpu, [1], "int32", Int32Array.of(0));
  const outputs: TensorInfo[][] = [[], [], []];
  for (let i = 0; i < n; i++) {
    const [param, grad, m, v] = [list[i], list[n + i], list[2 * n + i], list[3 * n + i]];
    const size = param.shape.reduce((count, d) => count * d, 1);
    if (size === 0) {
      outputs.forEach((made) => made.push(webgpu.makeTensorInfo(param.shape, "float32")));
      continue;
    }
    const made = outputs.map(() => gpuTensor(webgpu, param.shape, "float32"));
    made.forEach((t, k) => outputs[k].push(t));
    const workgroups = workgroupsFor(webgpu, size, WORKGROUP);
    encodeDispatch(webgpu, {
      key: "fairdiffAdamW",
      code,
      buffers: [param, grad, m, v, ...made, nonFinite],
      uniforms: [
        ...settings,
        { type: "int32", data: [size] },
        { type: "int32", data: [workgroups[0] * WORKGROUP] },
      ],
      workgroups,
    });
  }
  return [...outputs.flat(), nonFinite];
};

export const fusedAdamWWebgpuConfig: KernelConfig = {
  kernelName: FUSED_ADAMW,
  backendName: "webgpu",
  kernelFunc,
};
