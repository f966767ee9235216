/**
 * Text → latents → image: classifier-free-guided sampling with any scheduler. Each image's
 * starting noise and the fresh noise of every stochastic step (DDPM, DDIM with η > 0) come from
 * its own streams (seed, index), so image i is the same whatever the batch size — audits can be
 * re-run and extended.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng } from "../util/random";
import { sampleLatents, type SamplerOptions } from "./guidedSampler";
import type { LatentDiffusionModel } from "./latentDiffusionModel";

export interface GenerateOptions extends SamplerOptions {
  seed: number;
  /** Index of the first image in its seed's stream (to extend an earlier batch). */
  firstIndex?: number;
  /** Images per network call (default 32). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Starting latents for images firstIndex … firstIndex+count−1 of a seed's stream. */
export function initialLatents(
  model: LatentDiffusionModel,
  seed: number,
  firstIndex: number,
  count: number,
): tf.Tensor4D {
  const { sampleSize, inChannels } = model.config.unet;
  const per = sampleSize * sampleSize * inChannels;
  const values = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const rng = createRng(seed).fork(`image:${firstIndex + i}`);
    for (let j = 0; j < per; j++) values[i * per + j] = rng.normal();
  }
  return tf.tensor4d(values, [count, sampleSize, sampleSize, inChannels]);
}

/** Generators of the step noise of images firstIndex … firstIndex+count−1 of a seed's stream. */
export function stepNoiseGenerators(seed: number, firstIndex: number, count: number): Rng[] {
  return Array.from({ length: count }, (_, i) =>
    createRng(seed)
      .fork(`image:${firstIndex + i}`)
      .fork("step-noise"),
  );
}

export interface DenoiseOptions extends Omit<GenerateOptions, "seed" | "firstIndex" | "batchSize"> {
  /** One per latent: the fresh noise of stochastic steps (default: seed 0's streams 0…n−1). */
  stepNoise?: readonly Rng[];
}

/** Denoises `latents` for `prompts` (one per latent) and returns the final latents. */
export function denoiseLatents(
  model: LatentDiffusionModel,
  prompts: string[],
  latents: tf.Tensor4D,
  options: DenoiseOptions,
): tf.Tensor4D {
  return sampleLatents(model, prompts, latents, {
    ...options,
    stepNoise: options.stepNoise ?? stepNoiseGenerators(0, 0, prompts.length),
  });
}

/**
 * Generates one image per prompt. Returns a [B, H, W, C] tensor in [0, 1]; the caller owns it.
 */
export async function generateImages(
  model: LatentDiffusionModel,
  prompts: string[],
  options: GenerateOptions,
): Promise<tf.Tensor4D> {
  const batchSize = options.batchSize ?? 32;
  const first = options.firstIndex ?? 0;
  const parts: tf.Tensor4D[] = [];
  try {
    for (let start = 0; start < prompts.length; start += batchSize) {
      const chunk = prompts.slice(start, start + batchSize);
      const noise = initialLatents(model, options.seed, first + start, chunk.length);
      let latents: tf.Tensor4D;
      try {
        latents = denoiseLatents(model, chunk, noise, {
          ...options,
          stepNoise: stepNoiseGenerators(options.seed, first + start, chunk.length),
        });
      } finally {
        noise.dispose();
      }
      parts.push(
        tf.tidy(() => {
          const images = model.autoencoder.latentsToImages(latents);
          return tf.clipByValue(tf.div(tf.add(images, 1), 2), 0, 1) as tf.Tensor4D;
        }),
      );
      latents.dispose();
      options.onProgress?.(Math.min(start + batchSize, prompts.length), prompts.length);
      // Let the event loop breathe between batches (kernel messages, abort signals).
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (parts.length === 1) return parts[0];
    const all = tf.concat(parts, 0) as tf.Tensor4D;
    tf.dispose(parts);
    return all;
  } catch (error) {
    tf.dispose(parts);
    throw error;
  }
}
