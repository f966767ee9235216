/**
 * DDIM (Song et al. 2021, eq. 12): x_{t'} = √ᾱ_{t'}·x̂₀ + √(1−ᾱ_{t'}−σ²)·ε̂ + σ·z with
 * σ = η·√((1−ᾱ_{t'})/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_{t'}). η = 0 is the deterministic probability-flow
 * sampler; η = 1 has DDPM's posterior variance.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BaseScheduler } from "./baseScheduler";
import { previousTimestep, type StepOptions, type StepResult } from "./scheduler";
import type { SchedulerConfig } from "./schedulerConfig";

export interface DdimConfig extends SchedulerConfig {
  /** Stochasticity η ∈ [0, 1]. */
  eta: number;
  /** The last step lands on ᾱ = 1 (clean data) rather than on ᾱ_0. */
  setAlphaToOne: boolean;
}

export class DDIMScheduler extends BaseScheduler {
  readonly name = "ddim";
  readonly eta: number;
  readonly setAlphaToOne: boolean;

  constructor(config: Partial<DdimConfig> = {}) {
    const { eta = 0, setAlphaToOne = true, ...rest } = config;
    super(rest);
    if (!(eta >= 0 && eta <= 1)) throw new Error(`DDIM eta must be in [0, 1], got ${eta}`);
    this.eta = eta;
    this.setAlphaToOne = setAlphaToOne;
  }

  /** DDPM's posterior variance for the jump t → t' (σ² at η = 1). */
  variance(t: number, prevT: number): number {
    const alphaBarT = this.schedule.alphaBar(t);
    const alphaBarPrev = this.alphaBarAfter(prevT);
    return ((1 - alphaBarPrev) / (1 - alphaBarT)) * (1 - alphaBarT / alphaBarPrev);
  }

  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, options?: StepOptions): StepResult {
    const prevT = previousTimestep(this.timesteps, t);
    const alphaBarT = this.schedule.alphaBar(t);
    const alphaBarPrev = this.alphaBarAfter(prevT);
    const sigma = this.eta * Math.sqrt(Math.max(this.variance(t, prevT), 0));
    const directionCoeff = Math.sqrt(Math.max(1 - alphaBarPrev - sigma * sigma, 0));

    return tf.tidy(() => {
      // Drawn inside tidy so noise made here is freed; noise passed in is the caller's.
      const noise = sigma > 0 ? this.freshNoise(sample, options) : undefined;
      const { original, epsilon } = this.schedule.denoise(modelOutput, sample, alphaBarT);
      let prev = tf.add(tf.mul(original, Math.sqrt(alphaBarPrev)), tf.mul(epsilon, directionCoeff));
      if (noise) prev = tf.add(prev, tf.mul(noise, sigma));
      return { prevSample: prev, predOriginalSample: original };
    });
  }

  private alphaBarAfter(prevT: number): number {
    if (prevT >= 0) return this.schedule.alphaBar(prevT);
    return this.setAlphaToOne ? 1 : this.schedule.alphaBar(0);
  }
}
