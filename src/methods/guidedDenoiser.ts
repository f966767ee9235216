/**
 * The guided sampler's noise prediction (guidedSampler.ts) as a `ChainDenoiser`:
 * the text conditioning ([null prompts; prompts] embeddings) is an explicit, differentiable input
 * so the sampling chain can hand its gradient back to the text encoder.
 */
import * as tf from "@tensorflow/tfjs-core";
import { guidedNoisePrediction } from "../pipeline/guidedSampler";
import type { UNet } from "../models/unet";
import type { ChainDenoiser } from "./samplingChainGradient";

export function guidedDenoiser(
  unet: UNet,
  /** [2B, tokens] mask of the stacked [null; prompt] embeddings. */
  mask: tf.Tensor2D,
  guidanceScale: number,
  /** Variables inside the UNet that are trained (e.g. its LoRA adapters). */
  variables: tf.Variable[] = [],
): ChainDenoiser {
  return {
    variables,
    predict: (z, t, conditioning) =>
      guidedNoisePrediction(
        unet,
        z,
        t,
        { embeddings: conditioning as tf.Tensor3D, mask },
        guidanceScale,
      ),
  };
}
