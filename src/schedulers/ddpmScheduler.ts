/**
 * DDPM ancestral sampling (Ho et al. 2020): x_{t'} ~ q(x_{t'} | x_t, x̂₀), the Gaussian posterior
 * given the predicted x₀, where t' is the next inference timestep (t' = t − 1 with all 1000).
 */
import * as tf from "@tensorflow/tfjs-core";
import { BaseScheduler } from "./baseScheduler";
import { previousTimestep, type StepOptions, type StepResult } from "./scheduler";
import type { SchedulerConfig } from "./schedulerConfig";

/** "fixed_small" is the posterior variance β̃_t; "fixed_large" is β_t (Ho et al. §3.2). */
export type DdpmVarianceType = "fixed_small" | "fixed_large";

export interface DdpmConfig extends SchedulerConfig {
  varianceType: DdpmVarianceType;
}

export class DDPMScheduler extends BaseScheduler {
  readonly name = "ddpm";
  readonly varianceType: DdpmVarianceType;

  constructor(config: Partial<DdpmConfig> = {}) {
    const { varianceType = "fixed_small", ...rest } = config;
    super(rest);
    if (varianceType !== "fixed_small" && varianceType !== "fixed_large") {
      throw new Error(`unknown DDPM varianceType "${String(varianceType)}"`);
    }
    this.varianceType = varianceType;
  }

  /** Variance of the noise added on the jump t → t' (t' = −1 after the last step). */
  variance(t: number, prevT: number): number {
    const alphaBarT = this.schedule.alphaBar(t);
    const alphaBarPrev = this.schedule.alphaBar(prevT);
    const stepBeta = 1 - alphaBarT / alphaBarPrev;
    if (this.varianceType === "fixed_large") return stepBeta;
    // β̃ = (1−ᾱ_{t'})/(1−ᾱ_t)·β, floored as diffusers does so its log stays finite.
    return Math.max(((1 - alphaBarPrev) / (1 - alphaBarT)) * stepBeta, 1e-20);
  }

  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, options?: StepOptions): StepResult {
    const prevT = previousTimestep(this.timesteps, t);
    const alphaBarT = this.schedule.alphaBar(t);
    const alphaBarPrev = this.schedule.alphaBar(prevT);
    const betaBarT = 1 - alphaBarT;
    const betaBarPrev = 1 - alphaBarPrev;
    // α and β of the (possibly skipped) step t → t'.
    const stepAlpha = alphaBarT / alphaBarPrev;
    const stepBeta = 1 - stepAlpha;

    const originalCoeff = (Math.sqrt(alphaBarPrev) * stepBeta) / betaBarT;
    const sampleCoeff = (Math.sqrt(stepAlpha) * betaBarPrev) / betaBarT;
    const variance = this.variance(t, prevT);

    return tf.tidy(() => {
      // Drawn inside tidy so noise made here is freed; noise passed in is the caller's.
      const noise = prevT >= 0 ? this.freshNoise(sample, options) : undefined;
      const { original } = this.schedule.denoise(modelOutput, sample, alphaBarT);
      let prev = tf.add(tf.mul(original, originalCoeff), tf.mul(sample, sampleCoeff));
      if (noise) prev = tf.add(prev, tf.mul(noise, Math.sqrt(variance)));
      return { prevSample: prev, predOriginalSample: original };
    });
  }
}
