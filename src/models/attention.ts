/**
 * Multi-head scaled dot-product attention with q, k, v and out projections (the layers LoRA
 * adapts). Self-attention when no context is given; cross-attention takes keys and values from
 * a context (text tokens) whose padding a mask hides. Only batched matMul and softmax: no
 * einsum, so every backend, wasm included, runs and differentiates it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { Linear } from "./linear";
import { matMul } from "./matMul";
import { Module } from "./module";

export type AttentionKind = "self" | "cross";

export interface AttentionOptions {
  kind: AttentionKind;
  queryDim: number;
  /** Width of the context tokens (cross-attention); defaults to queryDim. */
  contextDim?: number;
  heads: number;
}

/** Additive bias that removes masked keys from the softmax (large, finite: no NaN if all masked). */
const MASKED = -1e9;

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
   * keyMask: [B, M] with 1 for real tokens and 0 for padding. Returns [B, N, queryDim].
   */
  apply(x: tf.Tensor3D, context?: tf.Tensor3D, keyMask?: tf.Tensor2D): tf.Tensor3D {
    if (this.kind === "cross" && !context) throw new Error("cross-attention needs a context");
    const source = this.kind === "cross" ? (context as tf.Tensor3D) : x;
    const [batch, queries] = x.shape;
    const keys = source.shape[1];
    const q = this.splitHeads(this.q.apply(x), batch, queries);
    const k = this.splitHeads(this.k.apply(source), batch, keys);
    const v = this.splitHeads(this.v.apply(source), batch, keys);
    let scores = tf.mul(matMul(q, k, true), 1 / Math.sqrt(this.headDim));
    if (keyMask) {
      if (keyMask.shape[0] !== batch || keyMask.shape[1] !== keys) {
        throw new Error(`attention mask shape [${keyMask.shape}] ≠ [${batch}, ${keys}]`);
      }
      const bias = tf.mul(tf.sub(1, keyMask), MASKED).reshape([batch, 1, 1, keys]);
      scores = tf.add(scores, bias);
    }
    const weights = tf.softmax(scores);
    const mixed = matMul(weights, v)
      .transpose([0, 2, 1, 3])
      .reshape([batch, queries, this.heads * this.headDim]);
    return this.out.apply(mixed) as tf.Tensor3D;
  }

  /** [B, N, H·d] → [B, H, N, d]. */
  private splitHeads(x: tf.Tensor, batch: number, tokens: number): tf.Tensor4D {
    return x.reshape([batch, tokens, this.heads, this.headDim]).transpose([0, 2, 1, 3]);
  }
}
