/**
 * The one API every sampler offers (diffusers' design): `setTimesteps(n)` chooses the
 * inference steps, `step` moves a sample one step back along them. Schedulers know nothing of
 * networks; a pipeline asks the network for `modelOutput` and hands it to `step`.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import type { NoiseSchedule, Timesteps } from "./noiseSchedule";
import type { SchedulerConfig } from "./schedulerConfig";

export interface StepOptions {
  /**
   * Source of the fresh noise stochastic steps add (DDPM, DDIM with η > 0): one generator for the
   * whole batch, or one per image (as diffusers takes a list of generators) so that image i's
   * noise does not depend on which images share its batch.
   */
  rng?: Rng | readonly Rng[];
  /** The fresh noise itself, instead of drawing it from `rng` (same shape as the sample). */
  noise?: tf.Tensor;
}

export interface StepResult {
  /** x at the next (less noisy) timestep. */
  prevSample: tf.Tensor;
  /** The scheduler's estimate of x₀ at this step. */
  predOriginalSample: tf.Tensor;
}

export interface Scheduler {
  readonly name: string;
  readonly config: SchedulerConfig;
  readonly schedule: NoiseSchedule;
  /** Inference timesteps, descending; empty until `setTimesteps`. */
  readonly timesteps: Int32Array;
  /** Standard deviation of the starting noise (1 for these variance-preserving samplers). */
  readonly initNoiseSigma: number;
  /** Chooses n inference steps and clears any multistep history. */
  setTimesteps(steps: number): void;
  /** One reverse step from timestep t (which must be one of `timesteps`, visited in order). */
  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, options?: StepOptions): StepResult;
  /** Network input at timestep t (identity for these samplers; kept for diffusers parity). */
  scaleModelInput(sample: tf.Tensor, t: number): tf.Tensor;
  addNoise(original: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor;
  /** Frees any tensors a multistep scheduler keeps between steps. */
  dispose(): void;
}

/** The timestep after t in the schedule (−1 after the last), or a clear error. */
export function previousTimestep(timesteps: Int32Array, t: number): number {
  const index = timesteps.indexOf(t);
  if (timesteps.length === 0) throw new Error("call setTimesteps(n) before step()");
  if (index < 0) {
    throw new Error(
      `timestep ${t} is not one of the scheduler's timesteps [${timesteps.join(", ")}]`,
    );
  }
  return index + 1 < timesteps.length ? timesteps[index + 1] : -1;
}
