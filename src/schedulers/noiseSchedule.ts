/**
 * The forward (noising) process q(x_t | x₀) = N(√ᾱ_t·x₀, (1−ᾱ_t)·I) and the conversions between
 * what a network predicts (ε, v or x₀) — shared by every scheduler, free of any network.
 */
import * as tf from "@tensorflow/tfjs-core";
import { betaSchedule, cumulativeAlphas } from "./betaSchedule";
import { resolveSchedulerConfig, type SchedulerConfig } from "./schedulerConfig";

/** Timesteps for a batch: one for all samples, or one per sample (length = batch size). */
export type Timesteps = number | ArrayLike<number>;

export interface Denoised {
  /** Predicted clean sample x₀. */
  original: tf.Tensor;
  /** Predicted noise ε. */
  epsilon: tf.Tensor;
}

export class NoiseSchedule {
  readonly config: SchedulerConfig;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphasCumprod: Float64Array;

  constructor(config: Partial<SchedulerConfig> = {}) {
    this.config = resolveSchedulerConfig(config);
    this.betas = betaSchedule({
      schedule: this.config.betaSchedule,
      trainTimesteps: this.config.trainTimesteps,
      betaStart: this.config.betaStart,
      betaEnd: this.config.betaEnd,
    });
    this.alphas = this.betas.map((b) => 1 - b);
    this.alphasCumprod = cumulativeAlphas(this.betas);
  }

  get trainTimesteps(): number {
    return this.config.trainTimesteps;
  }

  /** ᾱ_t; a negative t means "before the first step", where ᾱ = 1 (clean data). */
  alphaBar(t: number): number {
    if (!Number.isInteger(t) || t >= this.trainTimesteps) {
      throw new Error(`timestep must be an integer below ${this.trainTimesteps}, got ${t}`);
    }
    return t < 0 ? 1 : this.alphasCumprod[t];
  }

  /** Signal-to-noise ratio ᾱ/(1−ᾱ), e.g. for min-SNR loss weighting. */
  snr(t: number): number {
    const a = this.alphaBar(t);
    return a / (1 - a);
  }

  /** x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, with t shared or per sample. */
  addNoise(original: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return tf.tidy(() => {
      const signal = this.perSample(t, original, (a) => Math.sqrt(a));
      const spread = this.perSample(t, original, (a) => Math.sqrt(1 - a));
      return tf.add(tf.mul(original, signal), tf.mul(noise, spread));
    });
  }

  /** The v-prediction target v = √ᾱ_t·ε − √(1−ᾱ_t)·x₀ (Salimans & Ho 2022). */
  getVelocity(original: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return tf.tidy(() => {
      const signal = this.perSample(t, original, (a) => Math.sqrt(a));
      const spread = this.perSample(t, original, (a) => Math.sqrt(1 - a));
      return tf.sub(tf.mul(noise, signal), tf.mul(original, spread));
    });
  }

  /** The training target for the configured prediction type. */
  trainingTarget(original: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    switch (this.config.predictionType) {
      case "epsilon":
        return noise.clone();
      case "v_prediction":
        return this.getVelocity(original, noise, t);
      case "sample":
        return original.clone();
    }
  }

  /** x₀ and ε implied by a network output at noise level ᾱ (clipping x₀ if configured). */
  denoise(modelOutput: tf.Tensor, sample: tf.Tensor, alphaBar: number): Denoised {
    return tf.tidy(() => {
      const a = Math.sqrt(alphaBar);
      const s = Math.sqrt(1 - alphaBar);
      let original: tf.Tensor;
      let epsilon: tf.Tensor;
      switch (this.config.predictionType) {
        case "epsilon":
          epsilon = modelOutput.clone();
          original = tf.div(tf.sub(sample, tf.mul(modelOutput, s)), a);
          break;
        case "v_prediction":
          original = tf.sub(tf.mul(sample, a), tf.mul(modelOutput, s));
          epsilon = tf.add(tf.mul(modelOutput, a), tf.mul(sample, s));
          break;
        case "sample":
          original = modelOutput.clone();
          epsilon = tf.div(tf.sub(sample, tf.mul(modelOutput, a)), s);
          break;
      }
      if (this.config.clipSample) {
        const range = this.config.clipSampleRange;
        original = tf.clipByValue(original, -range, range);
        // Keep ε consistent with the clipped x₀, as diffusers' DDIM does.
        epsilon = tf.div(tf.sub(sample, tf.mul(original, a)), s);
      }
      return { original, epsilon };
    });
  }

  /** A coefficient f(ᾱ_t) as a scalar, or shaped [B, 1, …] to broadcast over a batch. */
  private perSample(t: Timesteps, like: tf.Tensor, f: (alphaBar: number) => number): tf.Tensor {
    if (typeof t === "number") return tf.scalar(f(this.alphaBar(t)));
    const batch = like.shape[0];
    if (t.length !== batch) {
      throw new Error(`got ${t.length} timesteps for a batch of ${String(batch)}`);
    }
    const values = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) values[i] = f(this.alphaBar(t[i]));
    const shape = [t.length, ...like.shape.slice(1).map(() => 1)];
    return tf.tensor(values, shape);
  }
}
