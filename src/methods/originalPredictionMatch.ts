/**
 * Holding the tuned model to the original model's guided noise predictions at one step of the
 * chain: the mean squared difference of the two, on that step's latents, times a weight. The
 * gradient is one network evaluation, taken directly rather than through the chain. Two of
 * Method 1's terms are this: prior preservation (the same prompts on both sides:
 * priorPreservation.ts) and prompted distillation (the tuned prompt against the original's
 * prompt naming each image's target groups: promptedDistillation.ts).
 */
import * as tf from "@tensorflow/tfjs-core";
import { disposeTextEmbedding } from "../models/textEncoder";
import { encodeGuidance, guidedNoisePrediction } from "../pipeline/guidedSampler";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { TrainedAdapters } from "./adapters";

export interface OriginalPredictionMatchInputs {
  adapters: TrainedAdapters;
  /** The tuned model's prompt per image. */
  prompts: string[];
  /** The original model's prompt per image (default: `prompts`). */
  originalPrompts?: string[];
  /** The latents at timestep `t` (the chain's input at that step); not on the tape. */
  latents: tf.Tensor4D;
  t: number;
  guidanceScale: number;
  /** The original model's guidance scale (default: `guidanceScale`). */
  originalGuidanceScale?: number;
  weight: number;
  /** Turns the original model's prediction into the one held to (e.g. classifier guidance); a new tensor. */
  adjustOriginal?: (original: LatentDiffusionModel, prediction: tf.Tensor4D) => tf.Tensor4D;
}

/** The term's value and its gradient for each of `adapters.variables` (the caller frees them). */
export async function originalPredictionMatchGradients(
  inputs: OriginalPredictionMatchInputs,
): Promise<{ loss: number; gradients: tf.Tensor[] }> {
  const { adapters, prompts, latents, t, guidanceScale, weight } = inputs;
  const prediction = (
    model: typeof adapters.model,
    rowPrompts: string[],
    scale = guidanceScale,
  ) => {
    const context = encodeGuidance(model.textEncoder, rowPrompts);
    try {
      return guidedNoisePrediction(model.unet, latents, t, context, scale);
    } finally {
      disposeTextEmbedding(context);
    }
  };
  const original = adapters.original((model) => {
    // An undefined scale falls back to the tuned side's (the closure's default).
    const plain = prediction(
      model,
      inputs.originalPrompts ?? prompts,
      inputs.originalGuidanceScale,
    );
    if (!inputs.adjustOriginal) return plain;
    try {
      return inputs.adjustOriginal(model, plain);
    } finally {
      plain.dispose();
    }
  });
  try {
    const variables = adapters.variables;
    const { value, grads } = tf
      .engine()
      .gradients(
        () =>
          tf.mul(
            tf.mean(tf.squaredDifference(prediction(adapters.model, prompts), original)),
            weight,
          ),
        variables,
        undefined,
        true,
      );
    // An async read: on WebGPU the value lives on the device.
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, gradients: variables.map((v, i) => grads[i] ?? tf.zerosLike(v)) };
  } finally {
    original.dispose();
  }
}
