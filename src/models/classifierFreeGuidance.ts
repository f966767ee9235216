/**
 * Classifier-free guidance (Ho & Salimans 2022): train with some prompts replaced by the null
 * prompt, then at sampling extrapolate from the unconditional toward the conditional
 * prediction: ε̂ = ε_uncond + s·(ε_cond − ε_uncond). s = 1 is plain conditional sampling.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import type { TextEmbedding, TextEncoder } from "./textEncoder";

/** The prompt that stands for "no conditioning". */
export const NULL_PROMPT = "";

export function guidedNoise(uncond: tf.Tensor, cond: tf.Tensor, scale: number): tf.Tensor {
  if (!Number.isFinite(scale)) throw new Error(`guidance scale must be finite, got ${scale}`);
  return tf.tidy(() => tf.add(uncond, tf.mul(tf.sub(cond, uncond), scale)));
}

/** The null prompt's embedding, repeated for a batch. */
export function nullPromptEmbedding(encoder: TextEncoder, batch = 1): TextEmbedding {
  return encoder.encode(new Array<string>(batch).fill(NULL_PROMPT));
}

/** Stacks [unconditional; conditional] so one network call serves both halves. */
export function guidanceBatch(cond: TextEmbedding, uncond: TextEmbedding): TextEmbedding {
  if (!tf.util.arraysEqual(cond.embeddings.shape, uncond.embeddings.shape)) {
    throw new Error(
      `conditional [${cond.embeddings.shape}] and null [${uncond.embeddings.shape}] embeddings differ in shape`,
    );
  }
  return {
    embeddings: tf.concat([uncond.embeddings, cond.embeddings], 0) as tf.Tensor3D,
    mask: tf.concat([uncond.mask, cond.mask], 0) as tf.Tensor2D,
  };
}

/** Splits a network output over a `guidanceBatch` back into (uncond, cond) and guides it. */
export function guideStackedOutput(output: tf.Tensor, scale: number): tf.Tensor {
  return tf.tidy(() => {
    const [uncond, cond] = tf.split(output, 2, 0);
    return guidedNoise(uncond, cond, scale);
  });
}

/** Prompt dropout for training: each prompt becomes the null prompt with the given probability. */
export function dropPrompts(prompts: string[], probability: number, rng: Rng): string[] {
  if (!(probability >= 0 && probability <= 1)) {
    throw new Error(`prompt dropout probability must be in [0, 1], got ${probability}`);
  }
  return prompts.map((p) => (rng.next() < probability ? NULL_PROMPT : p));
}
