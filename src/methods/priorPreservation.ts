/**
 * Method 1's prior-preservation term (an addition to Shen et al., after DreamBooth's): prompts
 * that name the patient's groups must keep drawing what the original model drew for them.
 * Whatever is trained on the neutral prompt — a LoRA on the text encoder or on the UNet — is
 * shared by every prompt, so a fix for race also moves "… of a Female Black patient …", and
 * the quality audit, whose generated set comes from such captions, sees it (FID +67–172 % on
 * race, docs/measurements/2026-12-06-retrained). The term: the mean squared difference of the
 * tuned and the original model's guided noise predictions at one step of the chain, on that
 * step's latents, for the step's prompt naming groups drawn at random (one prompt per image).
 * Its gradient is one network evaluation, taken directly rather than through the chain.
 */
import * as tf from "@tensorflow/tfjs-core";
import { promptSubject } from "../data/promptSubject";
import { disposeTextEmbedding } from "../models/textEncoder";
import { encodeGuidance, guidedNoisePrediction } from "../pipeline/guidedSampler";
import type { Rng } from "../util/random";
import type { TrainedAdapters } from "./adapters";

/** Per image: `prompt` naming a group drawn uniformly for every attribute its format can name. */
export function priorPrompts(prompt: string, n: number, rng: Rng): string[] {
  const subject = promptSubject(prompt);
  return Array.from({ length: n }, () =>
    subject.naming(
      Object.fromEntries(
        subject.nameable.map((attribute) => {
          const groups = subject.choices[attribute];
          return [attribute, groups[rng.int(groups.length)]];
        }),
      ),
    ),
  );
}

export interface PriorPreservationInputs {
  adapters: TrainedAdapters;
  prompts: string[];
  /** The latents at timestep `t` (the chain's input at that step); not on the tape. */
  latents: tf.Tensor4D;
  t: number;
  guidanceScale: number;
  weight: number;
}

/**
 * The term's value and its gradient for each of `adapters.variables` (the caller frees them).
 */
export async function priorPreservationGradients(inputs: PriorPreservationInputs): Promise<{
  loss: number;
  gradients: tf.Tensor[];
}> {
  const { adapters, prompts, latents, t, guidanceScale, weight } = inputs;
  const prediction = (model: typeof adapters.model) => {
    const context = encodeGuidance(model.textEncoder, prompts);
    try {
      return guidedNoisePrediction(model.unet, latents, t, context, guidanceScale);
    } finally {
      disposeTextEmbedding(context);
    }
  };
  const original = adapters.original(prediction);
  try {
    const variables = adapters.variables;
    const { value, grads } = tf
      .engine()
      .gradients(
        () => tf.mul(tf.mean(tf.squaredDifference(prediction(adapters.model), original)), weight),
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
