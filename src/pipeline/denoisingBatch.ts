/**
 * The denoiser's training batch for step s, as plain arrays: the examples the epoch order puts at
 * step s, their (pre-encoded) latents, a timestep and Gaussian noise per example, and the prompt
 * or — with probability `promptDropout` — the null prompt (classifier-free guidance). Everything
 * random derives from (seed, stream, s), so any step's batch is known without replaying the run:
 * a resumed run, and a method that reweights the same training, see the very same batches.
 */
import type { ArrayBatch } from "../backend/trainableModel";
import { NULL_PROMPT } from "../models/classifierFreeGuidance";
import { NoiseSchedule } from "../schedulers/noiseSchedule";
import { createRng } from "../util/random";
import { EpochOrder } from "./epochOrder";
import type { LatentDiffusionModel } from "./latentDiffusionModel";

export interface DenoisingBatchOptions {
  seed: number;
  batchSize: number;
  /** Probability of replacing a prompt by the null prompt. */
  promptDropout: number;
  /** Name of the per-step random stream (each trainer draws from its own). */
  stream: string;
}

export interface DenoisingBatch {
  arrays: ArrayBatch;
  /** Which example fills each batch slot. */
  indices: number[];
}

/**
 * Returns the batch maker for `examples`, whose latents (`encodeLatents`, one row per example)
 * are given.
 */
export function denoisingBatches(
  model: LatentDiffusionModel,
  examples: readonly { prompt: string }[],
  latents: Float32Array,
  options: DenoisingBatchOptions,
): (step: number) => DenoisingBatch {
  const { seed, batchSize, promptDropout } = options;
  const { unet, noise: noiseConfig } = model.config;
  const schedule = new NoiseSchedule(noiseConfig);
  const per = unet.sampleSize * unet.sampleSize * unet.inChannels;
  const order = new EpochOrder(examples.length, seed);
  return (step) => {
    const rng = createRng(seed).fork(`${options.stream}:${step}`);
    const indices = order.batchIndices(step, batchSize);
    const batchLatents = new Float32Array(batchSize * per);
    const noise = new Float32Array(batchSize * per);
    const timesteps = new Float32Array(batchSize);
    const signal = new Float32Array(batchSize);
    const spread = new Float32Array(batchSize);
    const prompts: string[] = [];
    indices.forEach((index, k) => {
      batchLatents.set(latents.subarray(index * per, (index + 1) * per), k * per);
      const t = rng.int(schedule.trainTimesteps);
      const alphaBar = schedule.alphaBar(t);
      timesteps[k] = t;
      signal[k] = Math.sqrt(alphaBar);
      spread[k] = Math.sqrt(1 - alphaBar);
      prompts.push(rng.next() < promptDropout ? NULL_PROMPT : examples[index].prompt);
    });
    for (let j = 0; j < noise.length; j++) noise[j] = rng.normal();
    const encoded = model.tokenizer.encode(prompts, { overflow: "truncate" });
    const shape = [batchSize, unet.sampleSize, unet.sampleSize, unet.inChannels];
    return {
      arrays: {
        latents: { values: batchLatents, shape },
        noise: { values: noise, shape },
        timesteps: { values: timesteps, shape: [batchSize] },
        signal: { values: signal, shape: [batchSize] },
        spread: { values: spread, shape: [batchSize] },
        tokenIds: { values: encoded.ids, shape: [batchSize, encoded.maxLength], dtype: "int32" },
        tokenMask: { values: encoded.mask, shape: [batchSize, encoded.maxLength] },
      },
      indices,
    };
  };
}
