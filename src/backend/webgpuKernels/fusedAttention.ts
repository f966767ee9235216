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
  attentionLayout,
  type AttentionAttrs,
  type AttentionLayout,
} from "../fusedKernels/fusedAttention";
import {
  encodeDispatch,
  float32Uniforms,
  gpuTensor,
  int32Uniforms,
  workgroupsFor,
  type WebgpuBackendInternals,
} from "./encodeDispatch";

const WORKGROUP = 64;
const MAX_HEAD_DIM = 256;

/** The uniforms every attention shader reads. */
const UNIFORMS = `struct Uniforms {
  batch : i32, queries : i32, keys : i32, heads : i32, scale : f32, rowStride : i32,
};`;

function uniforms(l: AttentionLayout, scale: number, workgroups: [number, number, number]) {
  return [
    ...int32Uniforms([l.batch, l.queries, l.keys, l.heads]),
    ...float32Uniforms([scale]),
    ...int32Uniforms([workgroups[0] * WORKGROUP]),
  ];
}

/**
 * WGSL every shader shares: `score(b, h, qBase, j)` is q·k_j·scale plus the key's mask bias
 * (q read at qBase); `headStart` the first flat index of a token's head; `queryRow` a query
 * row's batch, head, q index and largest score (the softmax's shift).
 */
function common(headDim: number, masked: boolean): string {
  const bias = masked ? "(keyMask[b * uniforms.keys + j] - 1.0) * 1e9" : "0.0";
  return `
const D = ${headDim};
fn headStart(b : i32, t : i32, tokens : i32, h : i32) -> i32 {
  return ((b * tokens + t) * uniforms.heads + h) * D;
}
fn score(b : i32, h : i32, qBase : i32, j : i32) -> f32 {
  let kBase = headStart(b, j, uniforms.keys, h);
  var dot = 0.0;
  for (var e = 0; e < D; e = e + 1) { dot = dot + q[qBase + e] * k[kBase + e]; }
  return dot * uniforms.scale + ${bias};
}
fn linearIndex(id : vec3<u32>) -> i32 { return i32(id.x) + i32(id.y) * uniforms.rowStride; }
/** (batch, token, head) of a flat index over [batch, tokens, heads]. */
fn tokenHead(index : i32, tokens : i32) -> vec3<i32> {
  return vec3<i32>(index / (uniforms.heads * tokens), (index / uniforms.heads) % tokens,
      index % uniforms.heads);
}
struct QueryRow { b : i32, h : i32, qBase : i32, largest : f32, };
fn queryRow(row : i32) -> QueryRow {
  let at = tokenHead(row, uniforms.queries);
  let qBase = headStart(at.x, at.y, uniforms.queries, at.z);
  var largest = -3.402823e38;
  for (var j = 0; j < uniforms.keys; j = j + 1) {
    largest = max(largest, score(at.x, at.z, qBase, j));
  }
  return QueryRow(at.x, at.z, qBase, largest);
}`;
}

/** dO·v_j for the row of dy at dBase and the key of v at vBase (the backward's shaders). */
const OUTPUT_GRAD = `
fn outputGrad(dBase : i32, vBase : i32) -> f32 {
  var dot = 0.0;
  for (var e = 0; e < D; e = e + 1) { dot = dot + dy[dBase + e] * v[vBase + e]; }
  return dot;
}`;

/** How `main` starts: a thread per (batch, query, head) row, or per (batch, key, head). */
const PROLOGUES = {
  queries: `
  let row = linearIndex(id);
  if (row >= uniforms.batch * uniforms.queries * uniforms.heads) { return; }
  let query = queryRow(row);
  let b = query.b;
  let h = query.h;
  let qBase = query.qBase;
  let largest = query.largest;`,
  keys: `
  let column = linearIndex(id);
  if (column >= uniforms.batch * uniforms.keys * uniforms.heads) { return; }
  let at = tokenHead(column, uniforms.keys);
  let b = at.x;
  let j = at.y;
  let h = at.z;
  let kBase = headStart(b, j, uniforms.keys, h);`,
};

/** Storage buffers in binding order, each read or written. */
type Binding = [string, "read" | "read_write"];

/**
 * A shader: q, k, v (and dy, for `backward`), the key mask where `masked`, then `outputs`, the
 * uniforms, the shared functions, and `main` — its prologue, then `body`.
 */
function shader(
  l: { headDim: number; masked: boolean; backward: boolean },
  outputs: Binding[],
  over: keyof typeof PROLOGUES,
  body: string,
): () => string {
  const names: Binding[] = [
    ...["q", "k", "v", ...(l.backward ? ["dy"] : [])].map((n): Binding => [n, "read"]),
    ...(l.masked ? [["keyMask", "read"] as Binding] : []),
    ...outputs,
  ];
  const bindings = names
    .map(
      ([name, access], i) =>
        `@group(0) @binding(${i}) var<storage, ${access}> ${name} : array<f32>;`,
    )
    .join("\n");
  return () => `
${bindings}
${UNIFORMS}
@group(0) @binding(${names.length}) var<uniform> uniforms : Uniforms;
${common(l.headDim, l.masked)}
${l.backward ? OUTPUT_GRAD : ""}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>) {
${PROLOGUES[over]}
${body}
}`;
}

const forwardCode = (headDim: number, masked: boolean) =>
  shader(
    { headDim, masked, backward: false },
    [["result", "read_write"]],
    "queries",
    `
  var total = 0.0;
  var mixed : array<f32, D>;
  for (var j = 0; j < uniforms.keys; j = j + 1) {
    let weight = exp(score(b, h, qBase, j) - largest);
    total = total + weight;
    let vBase = headStart(b, j, uniforms.keys, h);
    for (var e = 0; e < D; e = e + 1) { mixed[e] = mixed[e] + weight * v[vBase + e]; }
  }
  for (var e = 0; e < D; e = e + 1) { result[qBase + e] = mixed[e] / total; }`,
  );

/** dQ per row, and the row's (max, Σ exp, Σ_j w·dW) for the key pass. */
const queryGradCode = (headDim: number, masked: boolean) =>
  shader(
    { headDim, masked, backward: true },
    [
      ["dq", "read_write"],
      ["stats", "read_write"],
    ],
    "queries",
    `
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
  stats[3 * row + 2] = rowDot;`,
  );

/** dK and dV per (batch, key, head), from the rows' statistics. */
const keyGradCode = (headDim: number, masked: boolean) =>
  shader(
    { headDim, masked, backward: true },
    [
      ["stats", "read"],
      ["dk", "read_write"],
      ["dv", "read_write"],
    ],
    "keys",
    `
  var gradK : array<f32, D>;
  var gradV : array<f32, D>;
  for (var i = 0; i < uniforms.queries; i = i + 1) {
    let qBase = headStart(b, i, uniforms.queries, h);
    let row = (b * uniforms.queries + i) * uniforms.heads + h;
    let w = exp(score(b, h, qBase, j) - stats[3 * row]) / stats[3 * row + 1];
    let dScore = w * (outputGrad(qBase, kBase) - stats[3 * row + 2]) * uniforms.scale;
    for (var e = 0; e < D; e = e + 1) {
      gradV[e] = gradV[e] + w * dy[qBase + e];
      gradK[e] = gradK[e] + dScore * q[qBase + e];
    }
  }
  for (var e = 0; e < D; e = e + 1) {
    dk[kBase + e] = gradK[e];
    dv[kBase + e] = gradV[e];
  }`,
  );

function fitsHere(l: AttentionLayout, tensors: (TensorInfo | undefined)[]): boolean {
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
    const l = attentionLayout(q, k, a.heads);
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
    const l = attentionLayout(q, k, a.heads);
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
