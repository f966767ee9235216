/**
 * The fused normalisation kernels (fusedKernels/fusedNorm.ts) in WGSL, a workgroup per (row,
 * group) reducing together (encodeDispatch.ts, workgroupSum.ts). Forward: one dispatch takes the
 * group's mean and rstd and writes its normalised (affine, SiLU) outputs. Backward: one dispatch
 * per (row, group) takes mean, rstd, mean(g) and mean(g·x̂), writes dx, and each channel's sums
 * of d·x̂ and d over the row (the row's share of dγ and dβ); a second, a thread per channel, adds
 * the rows' shares. As tfjs programs (one output each) they took 2 and 4 dispatches, and a
 * thread per group looped over it alone.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import {
  FUSED_NORM,
  FUSED_NORM_GRAD,
  normLayout,
  type NormAttrs,
  type NormLayout,
} from "../fusedKernels/fusedNorm";
import {
  encodeDispatch,
  float32Uniforms,
  gpuTensor,
  int32Uniforms,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";
import { workgroupSumWgsl } from "./workgroupSum";

const WORKGROUP = 64;

const UNIFORMS = `struct Uniforms {
  rows : i32, spatial : i32, channels : i32, groups : i32, perGroup : i32, epsilon : f32,
  silu : i32, groupStride : i32,
};`;

function uniformsOf(l: NormLayout, attrs: NormAttrs, groupStride: number) {
  return [
    ...int32Uniforms([l.rows, l.spatial, l.channels, l.groups, l.perGroup]),
    ...float32Uniforms([attrs.epsilon]),
    ...int32Uniforms([attrs.silu ? 1 : 0, groupStride]),
  ];
}

/**
 * The workgroup's (row, group) k, the index of its element e (spatial-major within the group),
 * its channel, and the group's mean and rstd (every invocation of the workgroup calls it).
 */
const GROUP = `
${workgroupSumWgsl(WORKGROUP)}
fn groupOf(group : vec3<u32>) -> i32 { return i32(group.x) + i32(group.y) * uniforms.groupStride; }
fn elementCount() -> i32 { return uniforms.spatial * uniforms.perGroup; }
fn elementIndex(k : i32, e : i32) -> i32 {
  return (k / uniforms.groups) * uniforms.spatial * uniforms.channels +
      (e / uniforms.perGroup) * uniforms.channels + (k % uniforms.groups) * uniforms.perGroup +
      e % uniforms.perGroup;
}
fn channelOf(k : i32, e : i32) -> i32 {
  return (k % uniforms.groups) * uniforms.perGroup + e % uniforms.perGroup;
}
fn meanAndRstd(local : u32, k : i32) -> vec2<f32> {
  // One pass over x shifted by its first element (what keeps Σx² − (Σx)²/n from cancelling).
  let count = elementCount();
  let shift = x[elementIndex(k, 0)];
  var sums = vec2<f32>(0.0, 0.0);
  for (var e = i32(local); e < count; e = e + ${WORKGROUP}) {
    let d = x[elementIndex(k, e)] - shift;
    sums = sums + vec2<f32>(d, d * d);
  }
  let total = workgroupSum2(local, sums) / f32(count);
  let variance = max(total.y - total.x * total.x, 0.0);
  return vec2<f32>(shift + total.x, inverseSqrt(variance + uniforms.epsilon));
}`;

/** The gradient reaching the affine output a = x̂·γ + β (through the SiLU when there is one). */
const UPSTREAM = `
fn upstream(i : i32, channel : i32, xHat : f32) -> f32 {
  var d = dy[i];
  if (uniforms.silu == 1) {
    let a = xHat * gamma[channel] + beta[channel];
    let s = 1.0 / (1.0 + exp(-a));
    d = d * s * (1.0 + a * (1.0 - s));
  }
  return d;
}`;

const forwardCode = () => `
@group(0) @binding(0) var<storage, read> x : array<f32>;
@group(0) @binding(1) var<storage, read> gamma : array<f32>;
@group(0) @binding(2) var<storage, read> beta : array<f32>;
@group(0) @binding(3) var<storage, read_write> y : array<f32>;
${UNIFORMS}
@group(0) @binding(4) var<uniform> uniforms : Uniforms;
${GROUP}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) local : u32, @builtin(workgroup_id) group : vec3<u32>) {
  let k = groupOf(group);
  if (k >= uniforms.rows * uniforms.groups) { return; }
  let statistics = meanAndRstd(local, k);
  for (var e = i32(local); e < elementCount(); e = e + ${WORKGROUP}) {
    let i = elementIndex(k, e);
    let channel = channelOf(k, e);
    let a = (x[i] - statistics.x) * statistics.y * gamma[channel] + beta[channel];
    var out = a;
    if (uniforms.silu == 1) { out = a / (1.0 + exp(-a)); }
    y[i] = out;
  }
}`;

const backwardCode = () => `
@group(0) @binding(0) var<storage, read> dy : array<f32>;
@group(0) @binding(1) var<storage, read> x : array<f32>;
@group(0) @binding(2) var<storage, read> gamma : array<f32>;
@group(0) @binding(3) var<storage, read> beta : array<f32>;
@group(0) @binding(4) var<storage, read_write> dx : array<f32>;
@group(0) @binding(5) var<storage, read_write> rowGamma : array<f32>;
@group(0) @binding(6) var<storage, read_write> rowBeta : array<f32>;
${UNIFORMS}
@group(0) @binding(7) var<uniform> uniforms : Uniforms;
${GROUP}
${UPSTREAM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) local : u32, @builtin(workgroup_id) group : vec3<u32>) {
  let k = groupOf(group);
  if (k >= uniforms.rows * uniforms.groups) { return; }
  let statistics = meanAndRstd(local, k);
  let count = f32(elementCount());
  var sums = vec2<f32>(0.0, 0.0);
  for (var e = i32(local); e < elementCount(); e = e + ${WORKGROUP}) {
    let i = elementIndex(k, e);
    let channel = channelOf(k, e);
    let xHat = (x[i] - statistics.x) * statistics.y;
    let g = upstream(i, channel, xHat) * gamma[channel];
    sums = sums + vec2<f32>(g, g * xHat);
  }
  let means = workgroupSum2(local, sums) / count;
  let meanG = means.x;
  let meanGX = means.y;
  for (var e = i32(local); e < elementCount(); e = e + ${WORKGROUP}) {
    let i = elementIndex(k, e);
    let channel = channelOf(k, e);
    let xHat = (x[i] - statistics.x) * statistics.y;
    let g = upstream(i, channel, xHat) * gamma[channel];
    dx[i] = statistics.y * (g - meanG - xHat * meanGX);
  }
  // This row's share of dγ and dβ, a channel per invocation.
  let row = k / uniforms.groups;
  for (var c = i32(local); c < uniforms.perGroup; c = c + ${WORKGROUP}) {
    var shareGamma = 0.0;
    var shareBeta = 0.0;
    for (var s = 0; s < uniforms.spatial; s = s + 1) {
      let e = s * uniforms.perGroup + c;
      let i = elementIndex(k, e);
      let channel = channelOf(k, e);
      let xHat = (x[i] - statistics.x) * statistics.y;
      let d = upstream(i, channel, xHat);
      shareGamma = shareGamma + d * xHat;
      shareBeta = shareBeta + d;
    }
    let at = row * uniforms.channels + channelOf(k, c);
    rowGamma[at] = shareGamma;
    rowBeta[at] = shareBeta;
  }
}`;

const parameterCode = () => `
@group(0) @binding(0) var<storage, read> rowGamma : array<f32>;
@group(0) @binding(1) var<storage, read> rowBeta : array<f32>;
@group(0) @binding(2) var<storage, read_write> dGamma : array<f32>;
@group(0) @binding(3) var<storage, read_write> dBeta : array<f32>;
${UNIFORMS}
@group(0) @binding(4) var<uniform> uniforms : Uniforms;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let channel = i32(id.x);
  if (channel >= uniforms.channels) { return; }
  var sumGamma = 0.0;
  var sumBeta = 0.0;
  for (var row = 0; row < uniforms.rows; row = row + 1) {
    sumGamma = sumGamma + rowGamma[row * uniforms.channels + channel];
    sumBeta = sumBeta + rowBeta[row * uniforms.channels + channel];
  }
  dGamma[channel] = sumGamma;
  dBeta[channel] = sumBeta;
}`;

/** A workgroup per (row, group), folded into y past the device's per-dimension limit. */
function groupWorkgroups(webgpu: WebgpuBackendInternals, l: NormLayout) {
  return workgroupsFor(webgpu, l.rows * l.groups, 1);
}

const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const a = attrs as unknown as NormAttrs;
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const l = normLayout(x.shape, a);
  const y = gpuTensor(webgpu, x.shape, "float32");
  const workgroups = groupWorkgroups(webgpu, l);
  encodeDispatch(webgpu, {
    key: "fairdiffNorm",
    code: forwardCode,
    buffers: [x, gamma, beta, y],
    uniforms: uniformsOf(l, a, workgroups[0]),
    workgroups,
  });
  return y;
};

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const webgpu = backend as unknown as WebgpuBackendInternals;
  const a = attrs as unknown as NormAttrs;
  const { dy, x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const l = normLayout(x.shape, a);
  const dx = gpuTensor(webgpu, x.shape, "float32");
  const rowGamma = gpuTensor(webgpu, [l.rows, l.channels], "float32");
  const rowBeta = gpuTensor(webgpu, [l.rows, l.channels], "float32");
  const workgroups = groupWorkgroups(webgpu, l);
  const uniforms = uniformsOf(l, a, workgroups[0]);
  encodeDispatch(webgpu, {
    key: "fairdiffNormGrad",
    code: backwardCode,
    buffers: [dy, x, gamma, beta, dx, rowGamma, rowBeta],
    uniforms,
    workgroups,
  });
  const dGamma = gpuTensor(webgpu, gamma.shape, "float32");
  const dBeta = gpuTensor(webgpu, beta.shape, "float32");
  encodeDispatch(webgpu, {
    key: "fairdiffNormGradParameters",
    code: parameterCode,
    buffers: [rowGamma, rowBeta, dGamma, dBeta],
    uniforms,
    workgroups: workgroupsFor(webgpu, l.channels, WORKGROUP),
  });
  webgpu.disposeData(rowGamma.dataId);
  webgpu.disposeData(rowBeta.dataId);
  return [dx, dGamma, dBeta];
};

export const fusedNormWebgpuConfigs: KernelConfig[] = [
  { kernelName: FUSED_NORM, backendName: "webgpu", kernelFunc: forward },
  { kernelName: FUSED_NORM_GRAD, backendName: "webgpu", kernelFunc: backward },
];
