/**
 * Multi-head scaled dot-product attention with q, k, v and out projections (the layers LoRA
 * adapts). Self-attention when no context is given; cross-attention takes keys and values from
 * a context (text tokens) whose padding a mask hides. The core (head split, q·kᵀ, mask, softmax,
 * ·v, head merge) is one fused kernel on every backend, its gradient one more.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { Linear } from "./linear";
import { fusedAttention } from "../backend/fusedKernels/fusedAttention";
import { Module } from "./module";

export type AttentionKind = "self" | "cross";

export interface AttentionOptions {
  kind: AttentionKind;
  queryDim: number;
  /** Width of the context tokens (cross-attention); defaults to queryDim. */
  contextDim?: number;
  heads: number;
}

export class Attention extends Module {
  readonly kind: AttentionKind;
  readonly heads: number;
  readonly headDim: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;

  constructor(options: AttentionOptions, rng: Rng) {
    super();
    const { kind, queryDim, heads } = options;
    const contextDim = options.contextDim ?? queryDim;
    if (queryDim % heads !== 0) {
      throw new Error(`attention width ${queryDim} does not split into ${heads} heads`);
    }
    this.kind = kind;
    this.heads = heads;
    this.headDim = queryDim / heads;
    // Stable Diffusion's layout: no bias on q, k, v; bias on the output projection.
    this.q = this.addModule("q", new Linear(queryDim, queryDim, rng.fork("q"), { bias: false }));
    this.k = this.addModule("k", new Linear(contextDim, queryDim, rng.fork("k"), { bias: false }));
    this.v = this.addModule("v", new Linear(contextDim, queryDim, rng.fork("v"), { bias: false }));
    this.out = this.addModule("out", new Linear(queryDim, queryDim, rng.fork("out")));
  }

  /**
   * x: [B, N, queryDim]; context: [B, M, contextDim] (required for cross-attention);
   * keyMask: [B, M] with 1 for real tokens and 0 for padding; residual: [B, N, queryDim], added
   * inside the output projection's kernel. Returns [B, N, queryDim].
   */
  apply(
    x: tf.Tensor3D,
    context?: tf.Tensor3D,
    keyMask?: tf.Tensor2D,
    residual?: tf.Tensor3D,
  ): tf.Tensor3D {
    if (this.kind === "cross" && !context) throw new Error("cross-attention needs a context");
    const source = this.kind === "cross" ? (context as tf.Tensor3D) : x;
    const [batch] = x.shape;
    const keys = source.shape[1];
    if (keyMask && (keyMask.shape[0] !== batch || keyMask.shape[1] !== keys)) {
      throw new Error(`attention mask shape [${keyMask.shape}] ≠ [${batch}, ${keys}]`);
    }
    // One kernel forward and one backward (backend/fusedKernels/fusedAttention.ts).
    const mixed = fusedAttention(
      this.q.apply(x),
      this.k.apply(source),
      this.v.apply(source),
      { heads: this.heads, scale: 1 / Math.sqrt(this.headDim) },
      keyMask,
    );
    return this.out.apply(mixed, residual) as tf.Tensor3D;
  }
}
