/**
 * FairdiffSumOfSquares on WebGPU (fusedKernels/fusedSumOfSquares.ts) in a dispatch per
 * `maxStorageBuffersPerShaderStage − 1` tensors plus one: each workgroup reduces one tensor's
 * squares into a shared partials buffer (encodeDispatch.ts), then one workgroup sums the partials.
 * A fixed order everywhere (no atomics), so the same floats every run. Composed from the
 * backend's Square, Sum and AddN it took ~2.2 dispatches per tensor (660 for cxr-mini's
 * gradients, against 45).
 */
import { util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { FUSED_SUM_OF_SQUARES } from "../fusedKernels/fusedSumOfSquares";
import {
  encodeDispatch,
  gpuTensor,
  int32Uniforms,
  type WebgpuBackendInternals,
} from "./encodeDispatch";
import { workgroupSumWgsl } from "./workgroupSum";

const WORKGROUP = 256;

const WORKGROUP_SUM = workgroupSumWgsl(WORKGROUP);

/** Workgroup w reduces input w's squares into partials[first + w]. */
function chunkCode(inputs: number): () => string {
  const indices = Array.from({ length: inputs }, (_, i) => i);
  return () => `
${indices.map((i) => `@group(0) @binding(${i}) var<storage, read> x${i} : array<f32>;`).join("\n")}
@group(0) @binding(${inputs}) var<storage, read_write> partials : array<f32>;
struct Uniforms { first : i32, ${indices.map((i) => `size${i} : i32`).join(", ")}, };
@group(0) @binding(${inputs + 1}) var<uniform> uniforms : Uniforms;
${WORKGROUP_SUM}
fn squares(which : u32, local : i32) -> f32 {
  var total = 0.0;
  switch (which) {
${indices
  .map(
    (i) => `    case ${i}u: {
      for (var j = local; j < uniforms.size${i}; j = j + ${WORKGROUP}) { let x = x${i}[j]; total = total + x * x; }
    }`,
  )
  .join("\n")}
    default: {}
  }
  return total;
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) local : u32, @builtin(workgroup_id) group : vec3<u32>) {
  let total = workgroupSum(local, squares(group.x, i32(local)));
  if (local == 0u) { partials[uniforms.first + i32(group.x)] = total; }
}`;
}

const finalCode = () => `
@group(0) @binding(0) var<storage, read> partials : array<f32>;
@group(0) @binding(1) var<storage, read_write> result : array<f32>;
struct Uniforms { count : i32, };
@group(0) @binding(2) var<uniform> uniforms : Uniforms;
${WORKGROUP_SUM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) local : u32) {
  var total = 0.0;
  for (var j = i32(local); j < uniforms.count; j = j + ${WORKGROUP}) { total = total + partials[j]; }
  let sum = workgroupSum(local, total);
  if (local == 0u) { result[0] = sum; }
}`;

const kernelFunc: KernelFunc = ({ inputs, backend }) => {
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const tensors = Object.values(inputs) as TensorInfo[];
  // One binding is the partials.
  const perDispatch = Math.max(1, webgpu.device.limits.maxStorageBuffersPerShaderStage - 1);
  const partials = gpuTensor(webgpu, [tensors.length], "float32");
  for (let first = 0; first < tensors.length; first += perDispatch) {
    const chunk = tensors.slice(first, first + perDispatch);
    encodeDispatch(webgpu, {
      key: `fairdiffSumOfSquares_${chunk.length}`,
      code: chunkCode(chunk.length),
      buffers: [...chunk, partials],
      uniforms: int32Uniforms([first, ...chunk.map((t) => util.sizeFromShape(t.shape))]),
      workgroups: [chunk.length, 1, 1],
    });
  }
  const result = gpuTensor(webgpu, [1], "float32");
  encodeDispatch(webgpu, {
    key: "fairdiffSumOfPartials",
    code: finalCode,
    buffers: [partials, result],
    uniforms: int32Uniforms([tensors.length]),
    workgroups: [1, 1, 1],
  });
  webgpu.disposeData(partials.dataId);
  return result;
};

export const sumOfSquaresWebgpuConfig: KernelConfig = {
  kernelName: FUSED_SUM_OF_SQUARES,
  backendName: "webgpu",
  kernelFunc,
};
