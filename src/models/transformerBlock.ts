/**
 * Pre-LayerNorm transformer block: [LN → self-attention] → [LN → cross-attention on a context]
 * → [LN → GELU MLP], each with a residual. The text encoder uses self-attention only; the
 * UNet's spatial transformer uses cross-attention on text tokens (and self-attention if asked).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { gelu } from "./activations";
import { Attention } from "./attention";
import { Linear } from "./linear";
import { Module } from "./module";
import { LayerNorm } from "./normalization";

export interface TransformerBlockOptions {
  width: number;
  heads: number;
  selfAttention: boolean;
  /** Width of the context tokens; absent for a block without cross-attention. */
  contextDim?: number;
  mlpRatio?: number;
}

export class TransformerBlock extends Module {
  readonly selfNorm: LayerNorm | undefined;
  readonly selfAttention: Attention | undefined;
  readonly crossNorm: LayerNorm | undefined;
  readonly crossAttention: Attention | undefined;
  readonly mlpNorm: LayerNorm;
  readonly mlpIn: Linear;
  readonly mlpOut: Linear;

  constructor(options: TransformerBlockOptions, rng: Rng) {
    super();
    const { width, heads, contextDim, mlpRatio = 4 } = options;
    if (options.selfAttention) {
      this.selfNorm = this.addModule("selfNorm", new LayerNorm(width));
      this.selfAttention = this.addModule(
        "selfAttention",
        new Attention({ kind: "self", queryDim: width, heads }, rng.fork("self")),
      );
    }
    if (contextDim !== undefined) {
      this.crossNorm = this.addModule("crossNorm", new LayerNorm(width));
      this.crossAttention = this.addModule(
        "crossAttention",
        new Attention({ kind: "cross", queryDim: width, contextDim, heads }, rng.fork("cross")),
      );
    }
    this.mlpNorm = this.addModule("mlpNorm", new LayerNorm(width));
    this.mlpIn = this.addModule("mlpIn", new Linear(width, width * mlpRatio, rng.fork("mlpIn")));
    this.mlpOut = this.addModule("mlpOut", new Linear(width * mlpRatio, width, rng.fork("mlpOut")));
  }

  /** x: [B, N, width]; selfMask hides padded tokens of x; contextMask those of the context. */
  apply(
    x: tf.Tensor3D,
    context?: tf.Tensor3D,
    contextMask?: tf.Tensor2D,
    selfMask?: tf.Tensor2D,
  ): tf.Tensor3D {
    // Each residual joins inside its branch's output projection (Linear.apply's residual).
    let h = x;
    if (this.selfAttention && this.selfNorm) {
      const normed = this.selfNorm.apply(h) as tf.Tensor3D;
      h = this.selfAttention.apply(normed, undefined, selfMask, h);
    }
    if (this.crossAttention && this.crossNorm) {
      const normed = this.crossNorm.apply(h) as tf.Tensor3D;
      h = this.crossAttention.apply(normed, context, contextMask, h);
    }
    return this.mlpOut.apply(gelu(this.mlpIn.apply(this.mlpNorm.apply(h))), h) as tf.Tensor3D;
  }
}
