/** What DDPM, DDIM and DPM-Solver share: the noise schedule, inference timesteps, fresh noise. */
import * as tf from "@tensorflow/tfjs-core";
import { gaussianNoise } from "./gaussianNoise";
import { NoiseSchedule, type Timesteps } from "./noiseSchedule";
import type { Scheduler, StepOptions, StepResult } from "./scheduler";
import type { SchedulerConfig } from "./schedulerConfig";
import { inferenceTimesteps } from "./timestepSpacing";

export abstract class BaseScheduler implements Scheduler {
  abstract readonly name: string;
  readonly schedule: NoiseSchedule;
  readonly initNoiseSigma = 1;
  timesteps: Int32Array = new Int32Array(0);

  constructor(config: Partial<SchedulerConfig> = {}) {
    this.schedule = new NoiseSchedule(config);
  }

  get config(): SchedulerConfig {
    return this.schedule.config;
  }

  setTimesteps(steps: number): void {
    const { trainTimesteps, timestepSpacing, stepsOffset } = this.config;
    this.timesteps = inferenceTimesteps(steps, trainTimesteps, timestepSpacing, stepsOffset);
  }

  abstract step(
    modelOutput: tf.Tensor,
    t: number,
    sample: tf.Tensor,
    options?: StepOptions,
  ): StepResult;

  scaleModelInput(sample: tf.Tensor, _t: number): tf.Tensor {
    return sample;
  }

  addNoise(original: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return this.schedule.addNoise(original, noise, t);
  }

  dispose(): void {}

  /** Noise for a stochastic step: given explicitly, or drawn from the caller's seeded rng. */
  protected freshNoise(like: tf.Tensor, options: StepOptions | undefined): tf.Tensor {
    if (options?.noise) {
      if (!tf.util.arraysEqual(options.noise.shape, like.shape)) {
        throw new Error(`step noise shape [${options.noise.shape}] ≠ sample shape [${like.shape}]`);
      }
      return options.noise;
    }
    if (options?.rng) return gaussianNoise(like.shape, options.rng);
    throw new Error(`${this.name} adds noise at this step: pass { rng } or { noise } to step()`);
  }
}
