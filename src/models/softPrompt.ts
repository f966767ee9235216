/**
 * Soft prompt tokens (prompt tuning, Lester et al. 2021; one of Shen et al.'s fine-tuning
 * options): n learnable token embeddings prepended to every prompt's token embeddings.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { normalValues } from "./initializers";
import { Module } from "./module";

export class SoftPrompt extends Module {
  readonly tokens: number;
  readonly width: number;
  readonly embeddings: tf.Variable;

  /** Initialised N(0, initStd²); 0.02 matches the token embeddings of small transformers. */
  constructor(tokens: number, width: number, rng: Rng, initStd = 0.02) {
    super();
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new Error(`soft prompt needs at least one token, got ${tokens}`);
    }
    this.tokens = tokens;
    this.width = width;
    this.embeddings = this.addParameter("embeddings", normalValues(tokens * width, initStd, rng), [
      tokens,
      width,
    ]);
  }

  /** [B, L, width] → [B, n + L, width] with the soft tokens first; the mask gains n ones. */
  prepend(tokens: tf.Tensor3D, mask: tf.Tensor2D): { tokens: tf.Tensor3D; mask: tf.Tensor2D } {
    const batch = tokens.shape[0];
    const soft = tf.tile(this.embeddings.reshape([1, this.tokens, this.width]), [batch, 1, 1]);
    return {
      tokens: tf.concat([soft, tokens], 1) as tf.Tensor3D,
      mask: tf.concat([tf.ones([batch, this.tokens]), mask], 1) as tf.Tensor2D,
    };
  }
}
