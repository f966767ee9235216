/**
 * The fused dense layer's backward on WebGPU in two dispatches: dx = dy·Wᵀ with tfjs-webgpu's
 * own matrix product, and dW = xᵀ·dy with db = Σ_rows dy together in one of ours (a thread per
 * weight, the threads of the first input row also summing the bias's column) — composed from
 * tfjs's kernels, dW and db were two more products (fusedKernels/fusedLinear.ts).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { FUSED_LINEAR_GRAD } from "../fusedKernels/fusedLinear";
import {
  encodeDispatch,
  gpuTensor,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;

const weightGradCode = () => `
@group(0) @binding(0) var<storage, read> x : array<f32>;
@group(0) @binding(1) var<storage, read> dy : array<f32>;
@group(0) @binding(2) var<storage, read_write> dWeight : array<f32>;
@group(0) @binding(3) var<storage, read_write> dBias : array<f32>;
struct Uniforms { rows : i32, inFeatures : i32, outFeatures : i32, rowStride : i32, };
@group(0) @binding(4) var<uniform> uniforms : Uniforms;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let index = i32(id.x) + i32(id.y) * uniforms.rowStride;
  if (index >= uniforms.inFeatures * uniforms.outFeatures) { return; }
  let i = index / uniforms.outFeatures;
  let o = index % uniforms.outFeatures;
  var weight = 0.0;
  var bias = 0.0;
  for (var r = 0; r < uniforms.rows; r = r + 1) {
    let g = dy[r * uniforms.outFeatures + o];
    weight = weight + x[r * uniforms.inFeatures + i] * g;
    bias = bias + g;
  }
  dWeight[index] = weight;
  if (i == 0) { dBias[o] = bias; }
}`;

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, weight } = inputs as Record<string, TensorInfo>;
  const { residual } = attrs as unknown as { residual: boolean };
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const [inFeatures, outFeatures] = weight.shape;
  const rows = x.shape.slice(0, -1).reduce((n, d) => n * d, 1);
  const scope = KernelScope.of(backend, "webgpu");
  const dx = scope.run(
    "BatchMatMul",
    {
      a: scope.reshape(dy, [1, rows, outFeatures]),
      b: scope.reshape(weight, [1, inFeatures, outFeatures]),
    },
    { transposeA: false, transposeB: true },
  );
  const dWeight = gpuTensor(webgpu, weight.shape, "float32");
  const dBias = gpuTensor(webgpu, [outFeatures], "float32");
  const workgroups = workgroupsFor(webgpu, inFeatures * outFeatures, WORKGROUP);
  encodeDispatch(webgpu, {
    key: "fairdiffLinearWeightGrad",
    code: weightGradCode,
    buffers: [x, dy, dWeight, dBias],
    uniforms: [rows, inFeatures, outFeatures, workgroups[0] * WORKGROUP].map((v) => ({
      type: "int32" as const,
      data: [v],
    })),
    workgroups,
  });
  // A residual's gradient is dy itself: a reshape shares its buffer, no copy.
  const dResidual = residual ? [scope.reshape(dy, dy.shape)] : [];
  const [dxKept, ...dResidualKept] = scope.closeKeeping([scope.reshape(dx, x.shape), ...dResidual]);
  return [dxKept, dWeight, dBias, ...dResidualKept];
};

export const fusedLinearGradWebgpuConfig: KernelConfig = {
  kernelName: FUSED_LINEAR_GRAD,
  backendName: "webgpu",
  kernelFunc: backward,
};
