/**
 * Classifier guidance toward each image's target groups (Dhariwal & Nichol 2021), with the
 * classifier reading the predicted clean image as in universal guidance (Bansal et al. 2023) —
 * the subgroup classifier was trained on clean images, not noisy latents:
 *
 *   x̂₀ = (z_t − √(1−ᾱ_t)·ε) / √ᾱ_t,   ε̂ = ε − s·√(1−ᾱ_t)·∇_{x̂₀} Σ_i log p(y_i | D(x̂₀_i))
 *
 * where D is the decoder and log p of an intersection's group the sum of its component heads'
 * calibrated log-probabilities (as the cross-entropy reads it). Prompted distillation's teacher
 * uses it: the original model, for the prompt naming what can be named, guided toward every
 * targeted group — so it draws the assigned group also where the prompt cannot name it (age on
 * chest radiographs) or names it weakly (cxr-mini's "White" prompts draw 63–83 % White).
 * Measured on cxr-mini (docs/measurements/2026-12-06-guided): s = 0.1 draws 100 % of any age
 * band and 95–99 % of any race from the neutral prompt, at the unguided images' FID.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { NoiseSchedule } from "../schedulers/noiseSchedule";
import type { AlignmentAttribute } from "./alignmentAttributes";
import { calibratedLogProbabilities, crossEntropyTerm, latentsToUnitImages } from "./alignmentLoss";

export interface GroupGuidance {
  classifier: SubgroupClassifier;
  attributes: readonly AlignmentAttribute[];
  /** Per attribute: each image's target group (−1: not guided). */
  targets: readonly Int32Array[];
  /** s above; 0 leaves predictions unchanged. */
  scale: number;
  schedule: NoiseSchedule;
}

/** ε̂ for `prediction` (ε at latents `z`, timestep `t`) by `model`'s decoder; a new tensor. */
export function groupGuidedPrediction(
  guidance: GroupGuidance,
  model: LatentDiffusionModel,
  z: tf.Tensor4D,
  t: number,
  prediction: tf.Tensor4D,
): tf.Tensor4D {
  const { classifier, attributes, targets, scale } = guidance;
  const alphaBar = guidance.schedule.alphaBar(t);
  const spread = Math.sqrt(1 - alphaBar);
  return tf.tidy(() => {
    const clean = guidance.schedule.denoise(prediction, z, alphaBar).original;
    const n = z.shape[0];
    // The cross-entropy is a mean over images: × n makes it the sum of each image's −log p.
    const gradient = tf.grad((x: tf.Tensor) => {
      const images = latentsToUnitImages(model, x as tf.Tensor4D);
      const logProbabilities = calibratedLogProbabilities(classifier, images);
      return tf.mul(crossEntropyTerm(logProbabilities, attributes, targets, n), -n) as tf.Scalar;
    })(clean);
    return tf.sub(prediction, tf.mul(gradient, scale * spread)) as tf.Tensor4D;
  });
}
