/**
 * Diffusion timestep → vector: sinusoidal features (Vaswani et al.; cos first, as Stable
 * Diffusion's flip_sin_to_cos) followed by a two-layer SiLU MLP.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { silu } from "./activations";
import { Linear } from "./linear";
import { Module } from "./module";

export function sinusoidalEmbedding(
  timesteps: tf.Tensor1D,
  dim: number,
  maxPeriod = 10000,
): tf.Tensor2D {
  if (dim % 2 !== 0) throw new Error(`sinusoidal embedding width must be even, got ${dim}`);
  const half = dim / 2;
  const frequencies = new Float32Array(half);
  for (let i = 0; i < half; i++) frequencies[i] = Math.exp((-Math.log(maxPeriod) * i) / half);
  return tf.tidy(() => {
    const args = tf.mul(timesteps.toFloat().reshape([-1, 1]), tf.tensor2d(frequencies, [1, half]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
  });
}

export class TimestepEmbedding extends Module {
  readonly first: Linear;
  readonly second: Linear;

  constructor(
    readonly frequencyDim: number,
    readonly embeddingDim: number,
    rng: Rng,
  ) {
    super();
    this.first = this.addModule("first", new Linear(frequencyDim, embeddingDim, rng.fork("first")));
    this.second = this.addModule(
      "second",
      new Linear(embeddingDim, embeddingDim, rng.fork("second")),
    );
  }

  /** timesteps: [B] (integer-valued, float or int32) → [B, embeddingDim]. */
  apply(timesteps: tf.Tensor1D): tf.Tensor2D {
    const features = sinusoidalEmbedding(timesteps, this.frequencyDim);
    return this.second.apply(silu(this.first.apply(features))) as tf.Tensor2D;
  }
}
