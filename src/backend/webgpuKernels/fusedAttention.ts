/**
 * Fused attention on WebGPU in our own WGSL (encodeDispatch.ts): the forward is one dispatch, a
 * thread per (batch, query, head) row taking the softmax over keys and its product with v; the
 * backward two — a thread per row for dQ, which also writes the row's softmax statistics (max,
 * Σ exp, Σ_j w·dW), then a thread per (batch, key, head) for dK and dV from them. Composed from
 * tfjs-webgpu's kernels (head split and merge, two products, scaling, mask, softmax) the forward
 * took 9 dispatches and the backward 20. The arithmetic is fusedKernels/fusedAttention.ts's:
 *
 *   w = softmax(q·kᵀ·scale + keyBias),  dW = dO·vᵀ,  dS = w ⊙ (dW − Σ_keys dW ⊙ w)·scale,
 *   dQ = dS·k,  dK = dSᵀ·q,  dV = wᵀ·dO
 *
 * Heads wider than MAX_HEAD_DIM (a thread keeps a row of d floats) use the composed kernels.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import {
  FUSED_ATTENTION,
  FUSED_ATTENTION_GRAD,
  FUSED_MASKED_ATTENTION,
  type AttentionAttrs,
} from "../fusedKernels/fusedAttention";
import {
  encodeDispatch,
  gpuTensor,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;
const MAX_HEAD_DIM = 256;

interface Layout {
  batch: number;
  queries: number;
  keys: number;
  heads: number;
  headDim: number;
}

function layoutOf(q: TensorInfo, k: TensorInfo, heads: number): Layout {
  const [batch, queries, width] = q.shape;
  return { batch, queries, keys: k.shape[1], heads, headDim: width / heads };
}

/** The uniforms every attention shader reads (after the row stride, which comes last). */
const UNIFORMS = `struct Uniforms {
  batch : i32, queries : i32, keys : i32, heads : i32, scale : f32, rowStride : i32,
};`;

function uniforms(l: Layout, scale: number, workgroups: [number, number, number]) {
  return [
    ...[l.batch, l.queries, l.keys, l.heads].map((x) => ({ type: "int32" as const, data: [x] })),
    { type: "float32" as const, data: [scale] },
    { type: "int32" as const, data: [workgroups[0] * WORKGROUP] },
  ];
}

/**
 * WGSL shared by the three shaders: `score(b, h, qBase, j)` is q·k_j·scale plus the key's mask
 * bias, with q read from `queryRows` at qBase; the first flat index of a token's head.
 */
function common(headDim: number, masked: boolean, queryRows: string): string {
  const bias = masked ? "(keyMask[b * uniforms.keys + j] - 1.0) * 1e9" : "0.0";
  return `
const D = ${headDim};
fn headStart(b : i32, t : i32, tokens : i32, h : i32) -> i32 {
  return ((b * tokens + t) * uniforms.heads + h) * D;
}
fn score(b : i32, h : i32, qBase : i32, j : i32) -> f32 {
  let kBase = headStart(b, j, uniforms.keys, h);
  var dot = 0.0;
  for (var e = 0; e < D; e = e + 1) { dot = dot + ${queryRows}[qBase + e] * k[kBase + e]; }
  return dot * uniforms.scale + ${bias};
}
fn linearIndex(id : vec3<u32>) -> i32 { return i32(id.x) + i32(id.y) * uniforms.rowStride; }`;
}

/** Storage bindings from 0, in order; returns the WGSL and the next binding. */
function bindings(names: [string, "read" | "read_write"][]): string {
  return names
    .map(
      ([name, access], i) =>
        `@group(0) @binding(${i}) var<storage, ${access}> ${name} : array<f32>;`,
    )
    .join("\n");
}

function forwardCode(headDim: number, masked: boolean): () => string {
  const names: [string, "read" | "read_write"][] = [
    ["q", "read"],
    ["k", "read"],
    ["v", "read"],
    ...(masked ? ([["keyMask", "read"]] as [string, "read"][]) : []),
    ["result", "read_write"],
  ];
  return () => `
${bindings(names)}
${UNIFORMS}
@group(0) @binding(${names.length}) var<uniform> uniforms : Uniforms;
${common(headDim, masked, "q")}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let row = linearIndex(id);
  if (row >= uniforms.batch * uniforms.queries * uniforms.heads) { return; }
  let h = row % uniforms.heads;
  let i = (row / uniforms.heads) % uniforms.queries;
  let b = row / (uniforms.heads * uniforms.queries);
  let qBase = headStart(b, i, uniforms.queries, h);
  var largest = -3.402823e38;
  for (var j = 0; j < uniforms.keys; j = j + 1) { largest = max(largest, score(b, h, qBase, j)); }
  var total = 0.0;
  var mixed : array<f32, D>;
  for (var j = 0; j < uniforms.keys; j = j + 1) {
    let weight = exp(score(b, h, qBase, j) - largest);
    total = total + weight;
    let vBase = headStart(b, j, uniforms.keys, h);
    for (var e = 0; e < D; e = e + 1) { mixed[e] = mixed[e] + weight * v[vBase + e]; }
  }
  for (var e = 0; e < D; e = e + 1) { result[qBase + e] = mixed[e] / total; }
}`;
}

/** dQ per row, and the row's (max, Σ exp, Σ_j w·dW) for the key pass. */
function queryGradCode(headDim: number, masked: boolean): () => string {
  const names: [string, "read" | "read_write"][] = [
    ["q", "read"],
    ["k", "read"],
    ["v", "read"],
    ["dy", "read"],
    ...(masked ? ([["keyMask", "read"]] as [string, "read"][]) : []),
    ["dq", "read_write"],
    ["stats", "read_write"],
  ];
  return () => `
${bindings(names)}
${UNIFORMS}
@group(0) @binding(${names.length}) var<uniform> uniforms : Uniforms;
${common(headDim, masked, "q")}
fn outputGrad(dBase : i32, vBase : i32) -> f32 {
  var dot = 0.0;
  for (var e = 0; e < D; e = e + 1) { dot = dot + dy[dBase + e] * v[vBase + e]; }
  return dot;
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let row = linearIndex(id);
  if (row >= uniforms.batch * uniforms.queries * uniforms.heads) { return; }
  let h = row % uniforms.heads;
  let i = (row / uniforms.heads) % uniforms.queries;
  let b = row / (uniforms.heads * uniforms.queries);
  let qBase = headStart(b, i, uniforms.queries, h);
  var largest = -3.402823e38;
  for (var j = 0; j < uniforms.keys; j = j + 1) { largest = max(largest, score(b, h, qBase, j)); }
  var total = 0.0;
  var weighted = 0.0;
  for (var j = 0; j < uniforms.keys; j = j + 1) {
    let e = exp(score(b, h, qBase, j) - largest);
    total = total + e;
    weighted = weighted + e * outputGrad(qBase, headStart(b, j, uniforms.keys, h));
  }
  let rowDot = weighted / total;
  var grad : array<f32, D>;
  for (var j = 0; j < uniforms.keys; j = j + 1) {
    let kBase = headStart(b, j, uniforms.keys, h);
    let w = exp(score(b, h, qBase, j) - largest) / total;
    let dScore = w * (outputGrad(qBase, kBase) - rowDot) * uniforms.scale;
    for (var e = 0; e < D; e = e + 1) { grad[e] = grad[e] + dScore * k[kBase + e]; }
  }
  for (var e = 0; e < D; e = e + 1) { dq[qBase + e] = grad[e]; }
  stats[3 * row] = largest;
  stats[3 * row + 1] = total;
  stats[3 * row + 2] = rowDot;
}`;
}

/** dK and dV per (batch, key, head), from the rows' statistics. */
function keyGradCode(headDim: number, masked: boolean): () => string {
  const names: [string, "read" | "read_write"][] = [
    ["q", "read"],
    ["k", "read"],
    ["v", "read"],
    ["dy", "read"],
    ...(masked ? ([["keyMask", "read"]] as [string, "read"][]) : []),
    ["stats", "read"],
    ["dk", "read_write"],
    ["dv", "read_write"],
  ];
  return () => `
${bindings(names)}
${UNIFORMS}
@group(0) @binding(${names.length}) var<uniform> uniforms : Uniforms;
${common(headDim, masked, "q")}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
  let column = linearIndex(id);
  if (column >= uniforms.batch * uniforms.keys * uniforms.heads) { return; }
  let h = column % uniforms.heads;
  let j = (column / uniforms.heads) % uniforms.keys;
  let b = column / (uniforms.heads * uniforms.keys);
  let kBase = headStart(b, j, uniforms.keys, h);
  var gradK : array<f32, D>;
  var gradV : array<f32, D>;
  for (var i = 0; i < uniforms.queries; i = i + 1) {
    let qBase = headStart(b, i, uniforms.queries, h);
    let row = (b * uniforms.queries + i) * uniforms.heads + h;
    let w = exp(score(b, h, qBase, j) - stats[3 * row]) / stats[3 * row + 1];
    var dW = 0.0;
    for (var e = 0; e < D; e = e + 1) { dW = dW + dy[qBase + e] * v[kBase + e]; }
    let dScore = w * (dW - stats[3 * row + 2]) * uniforms.scale;
    for (var e = 0; e < D; e = e + 1) {
      gradV[e] = gradV[e] + w * dy[qBase + e];
      gradK[e] = gradK[e] + dScore * q[qBase + e];
    }
  }
  for (var e = 0; e < D; e = e + 1) {
    dk[kBase + e] = gradK[e];
    dv[kBase + e] = gradV[e];
  }
}`;
}

/** Float inputs (a mask of another dtype goes to the composed kernel) and heads we can hold. */
function fitsHere(l: Layout, tensors: (TensorInfo | undefined)[]): boolean {
  return (
    Number.isInteger(l.headDim) &&
    l.headDim > 0 &&
    l.headDim <= MAX_HEAD_DIM &&
    tensors.every((t) => t === undefined || t.dtype === "float32")
  );
}

function forward(composed: KernelFunc): KernelFunc {
  return (args) => {
    const { q, k, v, keyMask } = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as AttentionAttrs;
    const l = layoutOf(q, k, a.heads);
    if (!fitsHere(l, [q, k, v, keyMask])) return composed(args);
    const webgpu = args.backend as unknown as WebgpuBackendInternals;
    const result = gpuTensor(webgpu, q.shape, "float32");
    const workgroups = workgroupsFor(webgpu, l.batch * l.queries * l.heads, WORKGROUP);
    const masked = keyMask !== undefined;
    encodeDispatch(webgpu, {
      key: `fairdiffAttention_${l.headDim}_${masked}`,
      code: forwardCode(l.headDim, masked),
      buffers: [q, k, v, ...(masked ? [keyMask] : []), result],
      uniforms: uniforms(l, a.scale, workgroups),
      workgroups,
    });
    return result;
  };
}

function backward(composed: KernelFunc): KernelFunc {
  return (args) => {
    const { q, k, v, keyMask, dy } = args.inputs as Record<string, TensorInfo>;
    const a = args.attrs as unknown as AttentionAttrs;
    const l = layoutOf(q, k, a.heads);
    if (!fitsHere(l, [q, k, v, keyMask, dy])) return composed(args);
    const webgpu = args.backend as unknown as WebgpuBackendInternals;
    const masked = keyMask !== undefined;
    const mask = masked ? [keyMask] : [];
    const rows = l.batch * l.queries * l.heads;
    const dq = gpuTensor(webgpu, q.shape, "float32");
    const stats = gpuTensor(webgpu, [rows, 3], "float32");
    const rowGroups = workgroupsFor(webgpu, rows, WORKGROUP);
    encodeDispatch(webgpu, {
      key: `fairdiffAttentionQueryGrad_${l.headDim}_${masked}`,
      code: queryGradCode(l.headDim, masked),
      buffers: [q, k, v, dy, ...mask, dq, stats],
      uniforms: uniforms(l, a.scale, rowGroups),
      workgroups: rowGroups,
    });
    const dk = gpuTensor(webgpu, k.shape, "float32");
    const dv = gpuTensor(webgpu, v.shape, "float32");
    const keyGroups = workgroupsFor(webgpu, l.batch * l.keys * l.heads, WORKGROUP);
    encodeDispatch(webgpu, {
      key: `fairdiffAttentionKeyGrad_${l.headDim}_${masked}`,
      code: keyGradCode(l.headDim, masked),
      buffers: [q, k, v, dy, ...mask, stats, dk, dv],
      uniforms: uniforms(l, a.scale, keyGroups),
      workgroups: keyGroups,
    });
    webgpu.disposeData(stats.dataId);
    return [dq, dk, dv];
  };
}

/** The WebGPU forms, each over the composed kernel it replaces (used for wide heads). */
export function fusedAttentionWebgpuConfigs(
  previous: (kernelName: string) => KernelConfig | undefined,
): KernelConfig[] {
  const over = (kernelName: string, make: (composed: KernelFunc) => KernelFunc) => {
    const composed = previous(kernelName);
    if (!composed) throw new Error(`no composed ${kernelName} on webgpu to put ours over`);
    return { kernelName, backendName: "webgpu", kernelFunc: make(composed.kernelFunc) };
  };
  return [
    over(FUSED_ATTENTION, forward),
    over(FUSED_MASKED_ATTENTION, forward),
    over(FUSED_ATTENTION_GRAD, backward),
  ];
}
