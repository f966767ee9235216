/**
 * The original model's side of a Method 1 step (alignmentStep.ts): its chain and images from
 * the step's noise, for the semantic and hold terms' references, the prompted references, and the
 * prior and distillation terms' latents.
 */
import * as tf from "@tensorflow/tfjs-core";
import { disposeTextEmbedding } from "../models/textEncoder";
import { encodeGuidance } from "../pipeline/guidedSampler";
import type { AlignmentAttribute } from "./alignmentAttributes";
import { confidentGroups, headProbabilities, predictedGroups } from "./alignmentBatchTargets";
import { latentsToUnitImages, semanticFeatures } from "./alignmentLoss";
import type { AlignmentStepInputs } from "./alignmentStep";
import { guidedDenoiser } from "./guidedDenoiser";

/**
 * The original model's chain from `noise`, one prompt per row, off the tape: z_0, or with `steps`
 * the input of step `steps` (only the steps before it are run).
 */
export function originalLatents(
  inputs: AlignmentStepInputs,
  prompts: string[],
  noise: tf.Tensor4D,
  steps?: number,
  guidanceScale = inputs.settings.sampler.guidanceScale,
): tf.Tensor4D {
  const { adapters, chain } = inputs;
  return adapters.original((original) => {
    const context = encodeGuidance(original.textEncoder, prompts);
    try {
      const denoiser = guidedDenoiser(original.unet, context.mask, guidanceScale);
      return chain.sample(denoiser, noise, context.embeddings, steps);
    } finally {
      disposeTextEmbedding(context);
    }
  });
}

/** The original model's images in [0, 1] from `noise`, one prompt per row. */
function originalImages(
  inputs: AlignmentStepInputs,
  prompts: string[],
  noise: tf.Tensor4D,
): tf.Tensor4D {
  const latents = originalLatents(inputs, prompts, noise);
  try {
    return inputs.adapters.original((original) => latentsToUnitImages(original, latents));
  } finally {
    latents.dispose();
  }
}

/**
 * The original model's images from `noise`: their semantic features (when the term is on), their
 * predicted groups, and the confident groups of the `held` (untargeted) attributes.
 */
export async function referenceImages(
  inputs: AlignmentStepInputs,
  noise: tf.Tensor4D,
  projection: tf.Tensor2D | undefined,
  held: AlignmentAttribute[],
) {
  const { classifier, settings, attributes, prompts } = inputs;
  const images = originalImages(inputs, prompts, noise);
  try {
    const features =
      settings.semanticWeight > 0
        ? tf.tidy(() => semanticFeatures(settings.semanticFeatures, classifier, images, projection))
        : undefined;
    const heads = await headProbabilities(classifier, images);
    const n = prompts.length;
    return {
      features,
      groups: predictedGroups(attributes, heads, n),
      held: confidentGroups(held, heads, n, settings.threshold),
    };
  } finally {
    images.dispose();
  }
}

/**
 * The semantic reference features with the rows of `rows` replaced by the original model's images
 * for `prompts` (one per row) from the same noise; a new tensor.
 */
export function withPromptedRows(
  inputs: AlignmentStepInputs,
  features: tf.Tensor2D,
  noise: tf.Tensor4D,
  rows: number[],
  prompts: string[],
  projection: tf.Tensor2D | undefined,
): tf.Tensor2D {
  const { classifier, settings } = inputs;
  const rowNoise = tf.gather(noise, rows) as tf.Tensor4D;
  let images: tf.Tensor4D;
  try {
    images = originalImages(inputs, prompts, rowNoise);
  } finally {
    rowNoise.dispose();
  }
  try {
    return tf.tidy(() => {
      const prompted = semanticFeatures(settings.semanticFeatures, classifier, images, projection);
      const n = features.shape[0];
      const source = Int32Array.from({ length: n }, (_, i) => i);
      rows.forEach((row, k) => (source[row] = n + k));
      return tf.gather(tf.concat([features, prompted]), source) as tf.Tensor2D;
    });
  } finally {
    images.dispose();
  }
}

export type ReferenceImages = Awaited<ReturnType<typeof referenceImages>>;
