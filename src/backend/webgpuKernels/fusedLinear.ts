/**
 * The fused dense layer on WebGPU where ours saves dispatches over tfjs-webgpu's (composed in
 * fusedKernels/fusedLinear.ts). Backward, two dispatches: dx = dy·Wᵀ with tfjs-webgpu's own
 * matrix product, and dW = xᵀ·dy with db = Σ_rows dy together in one of ours (a thread per
 * weight, the threads of the first input row also summing the bias's column) instead of two more
 * products. Forward with a residual (a transformer block's skip): x·W + b + residual in one of
 * ours (a thread per output) instead of a product and an Add; without one, tfjs's fused product.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { FUSED_LINEAR_GRAD, FUSED_LINEAR_RESIDUAL, rowsOf } from "../fusedKernels/fusedLinear";
import {
  encodeDispatch,
  gpuTensor,
  int32Uniforms,
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

const residualForwardCode = (withBias: boolean) => () => `
@group(0) @binding(0) var<storage, read> x : array<f32>;
@group(0) @binding(1) var<storage, read> weight : array<f32>;
@group(0) @binding(2) var<storage, read> residual : array<f32>;
${withBias ? "@group(0) @binding(3) var<storage, read> bias : array<f32>;" : ""}
@group(0) @binding(${withBias ? 4 : 3}) var<storage, read_write> y : array<f32>;
struct Uniforms { rows : i32, inFeatures : i32, outFeatures : i32, rowStride : i32, };
@group(0) @binding(${withBias ? 5 : 4}) var<uniform> uniforms : Uniforms;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let index = i32(id.x) + i32(id.y) * uniforms.rowStride;
  if (index >= uniforms.rows * uniforms.outFeatures) { return; }
  let r = index / uniforms.outFeatures;
  let o = index % uniforms.outFeatures;
  var sum = ${withBias ? "bias[o]" : "0.0"};
  for (var i = 0; i < uniforms.inFeatures; i = i + 1) {
    sum = sum + x[r * uniforms.inFeatures + i] * weight[i * uniforms.outFeatures + o];
  }
  y[index] = sum + residual[index];
}`;

const residualForward: KernelFunc = ({ inputs, backend }) => {
  const { x, weight, bias, residual } = inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo;
    weight: TensorInfo;
    bias?: TensorInfo;
    residual: TensorInfo;
  };
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const [inFeatures, outFeatures] = weight.shape;
  const rows = rowsOf(x.shape);
  const y = gpuTensor(webgpu, residual.shape, "float32");
  const workgroups = workgroupsFor(webgpu, rows * outFeatures, WORKGROUP);
  encodeDispatch(webgpu, {
    key: `fairdiffLinearResidual_${bias !== undefined}`,
    code: residualForwardCode(bias !== undefined),
    buffers: [x, weight, residual, ...(bias ? [bias] : []), y],
    uniforms: int32Uniforms([rows, inFeatures, outFeatures, workgroups[0] * WORKGROUP]),
    workgroups,
  });
  return y;
};

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, weight } = inputs as Record<string, TensorInfo>;
  const { residual } = attrs as unknown as { residual: boolean };
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const [inFeatures, outFeatures] = weight.shape;
  const rows = rowsOf(x.shape);
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
    uniforms: int32Uniforms([rows, inFeatures, outFeatures, workgroups[0] * WORKGROUP]),
    workgroups,
  });
  // A residual's gradient is dy itself: a reshape shares its buffer, no copy.
  const dResidual = residual ? [scope.reshape(dy, dy.shape)] : [];
  const [dxKept, ...dResidualKept] = scope.closeKeeping([scope.reshape(dx, x.shape), ...dResidual]);
  return [dxKept, dWeight, dBias, ...dResidualKept];
};

export const fusedLinearWebgpuConfigs: KernelConfig[] = [
  { kernelName: FUSED_LINEAR_RESIDUAL, backendName: "webgpu", kernelFunc: residualForward },
  { kernelName: FUSED_LINEAR_GRAD, backendName: "webgpu", kernelFunc: backward },
];
