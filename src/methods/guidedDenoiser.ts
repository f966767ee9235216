/**
 * The guided sampler's noise prediction (guidedSampler.ts) as a `ChainDenoiser`:
 * the text conditioning ([null prompts; prompts] embeddings) is an explicit, differentiable input
 * so the sampling chain can hand its gradient back to the text encoder.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TextEncoder } from "../models/textEncoder";
import type { UNet } from "../models/unet";
import { encodeGuidance, guidedNoisePrediction } from "../pipeline/guidedSampler";
import type { ChainDenoiser } from "./samplingChainGradient";

export function guidedDenoiser(
  unet: UNet,
  /** [2B, tokens] mask of the stacked [null; prompt] embeddings. */
  mask: tf.Tensor2D,
  guidanceScale: number,
  /** Variables inside the UNet that are trained (e.g. its LoRA adapters). */
  variables: tf.Variable[] = [],
): ChainDenoiser {
  const predict = (z: tf.Tensor4D, t: number | tf.Tensor1D, conditioning: tf.Tensor) =>
    guidedNoisePrediction(
      unet,
      z,
      t,
      { embeddings: conditioning as tf.Tensor3D, mask },
      guidanceScale,
    );
  return { variables, predict, predictAt: predict };
}

/**
 * The other half of the chain's gradient: given ∂L/∂(conditioning) from the chain, the gradients
 * of ⟨dConditioning, [null; prompts] embeddings⟩ with respect to the text encoder's trained
 * `variables` (LoRA, soft prompt or its weights). The caller frees them.
 */
export function textConditioningGradients(
  textEncoder: TextEncoder,
  prompts: string[],
  variables: tf.Variable[],
  dConditioning: tf.Tensor,
): tf.Tensor[] {
  const { value, grads } = tf.engine().gradients(
    // The tape's forward pass is tidied: intermediate embeddings are freed afterwards.
    () => encodeGuidance(textEncoder, prompts).embeddings,
    variables,
    dConditioning as tf.Tensor3D,
    true,
  );
  value.dispose();
  return variables.map((v, i) => grads[i] ?? tf.zerosLike(v));
}
