/**
 * The one guided sampler. Every sampling loop in fairdiff is this one: encode the guidance
 * context once per batch, predict the guided noise with one network call over [null; prompts],
 * walk the scheduler's timesteps, each stochastic step drawing each image's fresh noise from
 * that image's own generator (as diffusers passes `generator` to `scheduler.step`). Generation
 * and audits use it as is; Method 2 keeps one step's latent through the per-step hook; Method 1's
 * DDIM chain records every step's input through it.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  guidanceBatch,
  guideStackedOutput,
  nullPromptEmbedding,
} from "../models/classifierFreeGuidance";
import { disposeTextEmbedding, type TextEmbedding, type TextEncoder } from "../models/textEncoder";
import type { UNet } from "../models/unet";
import { createScheduler, type SchedulerName } from "../schedulers/createScheduler";
import type { Scheduler } from "../schedulers/scheduler";
import type { Rng } from "../util/random";
import { ReplayedStep } from "../backend/kernelReplay";
import type { LatentDiffusionModel } from "./latentDiffusionModel";

/** How to sample: the same names in generation, audits and the three methods. */
export interface SamplerOptions {
  /** Inference steps (default 25). */
  steps?: number;
  /** Classifier-free guidance scale; 1 = conditional only (default 3). */
  guidanceScale?: number;
  /** Default "ddim". */
  scheduler?: SchedulerName;
  /** DDIM η (0 = deterministic). */
  eta?: number;
}

export const DEFAULT_SAMPLING_STEPS = 25;
export const DEFAULT_GUIDANCE_SCALE = 3;

/** ε̂(z, t) of a sampling loop. */
export type NoisePredictor = (z: tf.Tensor4D, t: number) => tf.Tensor4D;

export interface SamplingLoopOptions {
  /** One generator per image: the fresh noise of stochastic steps. */
  stepNoise?: readonly Rng[];
  signal?: AbortSignal;
  /**
   * Sees step k's input latent before the step (the loop disposes it afterwards: clone what you
   * keep).
   */
  onStep?: (k: number, t: number, sample: tf.Tensor4D) => void;
  /** Run only the first `steps` steps and return their output, the input of step `steps`. */
  steps?: number;
}

/** The [null prompt; prompts] embeddings, stacked for one network call per step. */
export function encodeGuidance(textEncoder: TextEncoder, prompts: string[]): TextEmbedding {
  const cond = textEncoder.encode(prompts);
  const uncond = nullPromptEmbedding(textEncoder, prompts.length);
  try {
    return guidanceBatch(cond, uncond);
  } finally {
    disposeTextEmbedding(cond);
    disposeTextEmbedding(uncond);
  }
}

/** The guided noise prediction for latents `z` at timestep `t` under a guidance context. */
export function guidedNoisePrediction(
  unet: UNet,
  z: tf.Tensor4D,
  t: number | tf.Tensor1D,
  context: TextEmbedding,
  guidanceScale: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const stacked = tf.concat([z, z], 0) as tf.Tensor4D;
    const output = unet.apply(stacked, t, context.embeddings, context.mask);
    return guideStackedOutput(output, guidanceScale) as tf.Tensor4D;
  });
}

/**
 * A sampling loop's predictor from `predict`, replayed as its kernels from the loop's second
 * step on (kernelReplay.ts): the timestep enters as a [1] tensor (as a number it would be a
 * recorded constant). `predict` must be a function of z, the timestep and tensors it holds.
 */
export function replayedPredictor(
  predict: (z: tf.Tensor4D, t: tf.Tensor1D) => tf.Tensor4D,
): NoisePredictor {
  const replayed = new ReplayedStep(1);
  return (z, t) => {
    const timestep = tf.tensor1d([t]);
    const inputs = [z, timestep];
    try {
      const [prediction] = replayed.run(inputs, () => [predict(z, timestep)]);
      return prediction as tf.Tensor4D;
    } finally {
      timestep.dispose();
    }
  };
}

/** A scheduler for the model's noise schedule, set to the sampler's steps. The caller disposes. */
export function samplerScheduler(model: LatentDiffusionModel, options: SamplerOptions): Scheduler {
  const scheduler = createScheduler(options.scheduler ?? "ddim", {
    ...model.config.noise,
    ...(options.eta !== undefined ? { eta: options.eta } : {}),
  });
  scheduler.setTimesteps(options.steps ?? DEFAULT_SAMPLING_STEPS);
  return scheduler;
}

/** Walks `scheduler`'s timesteps from `latents` (unit-variance noise) and returns the result. */
export function runSamplingLoop(
  scheduler: Scheduler,
  latents: tf.Tensor4D,
  predict: NoisePredictor,
  options: SamplingLoopOptions = {},
): tf.Tensor4D {
  let sample = tf.mul(latents, scheduler.initNoiseSigma) as tf.Tensor4D;
  try {
    const steps = options.steps ?? scheduler.timesteps.length;
    for (let k = 0; k < steps; k++) {
      const t = scheduler.timesteps[k];
      if (options.signal?.aborted) throw new Error("generation aborted");
      options.onStep?.(k, t, sample);
      const next = tf.tidy(() => {
        const input = scheduler.scaleModelInput(sample, t) as tf.Tensor4D;
        const rng = options.stepNoise;
        return scheduler.step(predict(input, t), t, sample, rng ? { rng } : undefined)
          .prevSample as tf.Tensor4D;
      });
      sample.dispose();
      sample = next;
    }
    return sample;
  } catch (error) {
    sample.dispose();
    throw error;
  }
}

/** Guided sampling of `latents` for `prompts` (one per latent) with the model's own networks. */
export function sampleLatents(
  model: LatentDiffusionModel,
  prompts: string[],
  latents: tf.Tensor4D,
  options: SamplerOptions & SamplingLoopOptions,
): tf.Tensor4D {
  const scale = options.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;
  const scheduler = samplerScheduler(model, options);
  const context = encodeGuidance(model.textEncoder, prompts);
  try {
    return runSamplingLoop(
      scheduler,
      latents,
      replayedPredictor((z, t) => guidedNoisePrediction(model.unet, z, t, context, scale)),
      options,
    );
  } finally {
    disposeTextEmbedding(context);
    scheduler.dispose();
  }
}

/** The timesteps a sampler visits, in order (to pick one, e.g. Method 2's noisy step). */
export function samplerTimesteps(model: LatentDiffusionModel, options: SamplerOptions): number[] {
  const scheduler = samplerScheduler(model, options);
  try {
    return Array.from(scheduler.timesteps);
  } finally {
    scheduler.dispose();
  }
}
