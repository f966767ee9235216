/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Alg. 2): a second-order multistep solver of
 * the probability-flow ODE in data-prediction form, with λ = log(α/σ), α = √ᾱ, σ = √(1−ᾱ):
 *   x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·(D₀ + ½·D₁),  h = λ_t − λ_s,
 * D₀ the current x₀ estimate and D₁ = (D₀ − D_prev)/r its finite difference (midpoint form,
 * as diffusers' default). The first step, and the final step, are first order.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BaseScheduler } from "./baseScheduler";
import { previousTimestep, type StepOptions, type StepResult } from "./scheduler";
import type { SchedulerConfig } from "./schedulerConfig";

/** Where the last step lands: σ = 0 (the clean estimate itself) or ᾱ_0, the least noisy trained level. */
export type FinalSigmaType = "zero" | "sigma_min";

export interface DpmSolverConfig extends SchedulerConfig {
  finalSigmasType: FinalSigmaType;
  /** Use first order on the last step when there are fewer than 15 steps (stabler; diffusers' default). */
  lowerOrderFinal: boolean;
}

interface NoiseLevel {
  alpha: number;
  sigma: number;
  lambda: number;
}

interface History {
  original: tf.Tensor;
  lambda: number;
}

export class DPMSolverMultistepScheduler extends BaseScheduler {
  readonly name = "dpm-solver++";
  readonly finalSigmasType: FinalSigmaType;
  readonly lowerOrderFinal: boolean;
  /** The previous step's x₀ estimate, kept (outside any tidy) until the next step needs it. */
  private history: History | undefined;
  private nextIndex = 0;

  constructor(config: Partial<DpmSolverConfig> = {}) {
    const { finalSigmasType = "zero", lowerOrderFinal = true, ...rest } = config;
    super(rest);
    if (finalSigmasType !== "zero" && finalSigmasType !== "sigma_min") {
      throw new Error(`unknown finalSigmasType "${String(finalSigmasType)}"`);
    }
    this.finalSigmasType = finalSigmasType;
    this.lowerOrderFinal = lowerOrderFinal;
  }

  override setTimesteps(steps: number): void {
    super.setTimesteps(steps);
    this.clearHistory();
  }

  override dispose(): void {
    this.clearHistory();
  }

  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, _options?: StepOptions): StepResult {
    const prevT = previousTimestep(this.timesteps, t);
    const index = this.timesteps.indexOf(t);
    if (index !== this.nextIndex) {
      throw new Error(
        `DPM-Solver++ steps must follow the timesteps in order: expected ${this.timesteps[this.nextIndex]}, got ${t} (call setTimesteps to restart)`,
      );
    }
    const isLast = prevT < 0;
    const source = this.level(this.schedule.alphaBar(t));
    const target: NoiseLevel | undefined =
      isLast && this.finalSigmasType === "zero"
        ? undefined
        : this.level(this.schedule.alphaBar(Math.max(prevT, 0)));
    const firstOrder =
      this.history === undefined ||
      (isLast && (target === undefined || (this.lowerOrderFinal && this.timesteps.length < 15)));

    const result = tf.tidy(() => {
      const { original } = this.schedule.denoise(modelOutput, sample, source.alpha ** 2);
      // σ_target = 0: the ODE solution is the clean estimate itself.
      if (target === undefined)
        return { prevSample: original.clone(), predOriginalSample: original };
      const h = target.lambda - source.lambda;
      const decay = Math.expm1(-h); // e^{−h} − 1, accurate for small h
      let data = original;
      if (!firstOrder && this.history) {
        const r = (source.lambda - this.history.lambda) / h;
        const d1 = tf.div(tf.sub(original, this.history.original), r);
        data = tf.add(original, tf.mul(d1, 0.5));
      }
      const prev = tf.sub(
        tf.mul(sample, target.sigma / source.sigma),
        tf.mul(data, target.alpha * decay),
      );
      return { prevSample: prev, predOriginalSample: original };
    });

    this.clearHistory();
    this.history = {
      original: tf.keep(result.predOriginalSample.clone()),
      lambda: source.lambda,
    };
    this.nextIndex = index + 1;
    return result;
  }

  private level(alphaBar: number): NoiseLevel {
    const alpha = Math.sqrt(alphaBar);
    const sigma = Math.sqrt(1 - alphaBar);
    return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
  }

  private clearHistory(): void {
    this.history?.original.dispose();
    this.history = undefined;
    this.nextIndex = 0;
  }
}
