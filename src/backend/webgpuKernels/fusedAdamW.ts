/**
 * The multi-tensor AdamW kernel on WebGPU: each dispatch updates as many variables as the device
 * binds (7 storage buffers each: 2 on lavapipe's 16, 1 on WebGPU's default 8), reading param,
 * grad, m and v once and writing the new param and both moments (encodeDispatch.ts; as a tfjs
 * program, which writes one output, it took three dispatches per variable). It counts new
 * parameters that are NaN or ±Inf into one shared counter with atomics: the step's finiteness
 * check without the ~2 dispatches per variable a sum of each would take. The arithmetic is
 * fusedKernels/fusedAdamW.ts's, in WGSL. The count is an int32 [1] tensor (the host kernels' is
 * float32).
 */
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { adamWSettingsInOrder, FUSED_ADAMW, type AdamWStepAttrs } from "../fusedKernels/fusedAdamW";
import {
  encodeDispatch,
  float32Uniforms,
  gpuTensor,
  int32Uniforms,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;
/** Storage buffers a variable binds: param, grad, m, v in; param, m, v out. */
const BUFFERS_PER_VARIABLE = 7;

/** WGSL for `count` variables a dispatch (workgroup z picks one), sharing one counter. */
function code(count: number): () => string {
  const variables = Array.from({ length: count }, (_, k) => k);
  const names = ["param", "grad", "moment1", "moment2", "newParam", "newMoment1", "newMoment2"];
  return () => `
${variables
  .flatMap((k) =>
    names.map(
      (name, i) =>
        `@group(0) @binding(${k * BUFFERS_PER_VARIABLE + i}) var<storage, ${i < 4 ? "read" : "read_write"}> ${name}${k} : array<f32>;`,
    ),
  )
  .join("\n")}
@group(0) @binding(${count * BUFFERS_PER_VARIABLE}) var<storage, read_write> nonFinite : array<atomic<i32>>;
struct Uniforms {
  learningRate : f32, weightDecay : f32, beta1 : f32, beta2 : f32, epsilon : f32,
  correction1 : f32, correction2 : f32, gradientScale : f32, rowStride : i32,
  ${variables.map((k) => `size${k} : i32`).join(", ")},
};
@group(0) @binding(${count * BUFFERS_PER_VARIABLE + 1}) var<uniform> uniforms : Uniforms;

/** The new (param, m, v) of one element. */
fn step(param : f32, grad : f32, moment1 : f32, moment2 : f32) -> vec3<f32> {
  let g = grad * uniforms.gradientScale;
  let m = uniforms.beta1 * moment1 + (1.0 - uniforms.beta1) * g;
  let v = uniforms.beta2 * moment2 + (1.0 - uniforms.beta2) * g * g;
  let update = (m / uniforms.correction1) / (sqrt(v / uniforms.correction2) + uniforms.epsilon);
  let decay = 1.0 - uniforms.learningRate * uniforms.weightDecay;
  return vec3<f32>(param * decay - uniforms.learningRate * update, m, v);
}

fn countNonFinite(p : f32) {
  // All exponent bits set: NaN or ±Inf (bits, not arithmetic a compiler may assume finite).
  if ((bitcast<u32>(p) & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&nonFinite[0], 1);
  }
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let index = i32(id.x) + i32(id.y) * uniforms.rowStride;
  switch (id.z) {
${variables
  .map(
    (k) => `    case ${k}u: {
      if (index < uniforms.size${k}) {
        let next = step(param${k}[index], grad${k}[index], moment1${k}[index], moment2${k}[index]);
        newParam${k}[index] = next.x;
        newMoment1${k}[index] = next.y;
        newMoment2${k}[index] = next.z;
        countNonFinite(next.x);
      }
    }`,
  )
  .join("\n")}
    default: {}
  }
}`;
}

const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const settings = float32Uniforms(adamWSettingsInOrder(attrs as unknown as AdamWStepAttrs));
  const list = Object.values(inputs) as TensorInfo[];
  const n = list.length / 4;
  // One binding is the counter.
  const perDispatch = Math.max(
    1,
    Math.floor((webgpu.device.limits.maxStorageBuffersPerShaderStage - 1) / BUFFERS_PER_VARIABLE),
  );
  const nonFinite = gpuTensor(webgpu, [1], "int32", Int32Array.of(0));
  const outputs: TensorInfo[][] = [[], [], []];
  let group: { buffers: TensorInfo[]; sizes: number[] } = { buffers: [], sizes: [] };
  const flush = () => {
    const count = group.sizes.length;
    if (count === 0) return;
    const [x, y] = workgroupsFor(webgpu, Math.max(...group.sizes), WORKGROUP);
    encodeDispatch(webgpu, {
      key: `fairdiffAdamW_${count}`,
      code: code(count),
      buffers: [...group.buffers, nonFinite],
      uniforms: [...settings, ...int32Uniforms([x * WORKGROUP, ...group.sizes])],
      workgroups: [x, y, count],
    });
    group = { buffers: [], sizes: [] };
  };
  for (let i = 0; i < n; i++) {
    const [param, grad, m, v] = [list[i], list[n + i], list[2 * n + i], list[3 * n + i]];
    const size = util.sizeFromShape(param.shape);
    if (size === 0) {
      outputs.forEach((made) => made.push(webgpu.makeTensorInfo(param.shape, "float32")));
      continue;
    }
    const made = outputs.map(() => gpuTensor(webgpu, param.shape, "float32"));
    made.forEach((t, k) => outputs[k].push(t));
    group.buffers.push(param, grad, m, v, ...made);
    group.sizes.push(size);
    if (group.sizes.length === perDispatch) flush();
  }
  flush();
  return [...outputs.flat(), nonFinite];
};

export const fusedAdamWWebgpuConfig: KernelConfig = {
  kernelName: FUSED_ADAMW,
  backendName: "webgpu",
  kernelFunc,
};
