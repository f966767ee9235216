/**
 * The loss distributional alignment minimises on the images the current model generates:
 *
 *   L = λ_fair·Σ_attributes (1/N)·Σ_i [c_i ≥ threshold]·CE(classifier(x_i), y_i)
 *     + (1/N)·Σ_i w_i·(1 − cos(feat(x_i), feat(x̃_i)))
 *     + λ_hold·Σ_untargeted (1/N)·Σ_i [p(ỹ_i) ≥ threshold]·CE(classifier(x_i), ỹ_i)
 *
 * where y_i is image i's optimal-transport target, x̃_i the frozen original model's image from the
 * same noise, w_i the semantic weight (smaller for images whose target differs from what the
 * original image shows: they must change), and ỹ_i the group x̃_i shows for an attribute the
 * target does not name (the preservation term: a fix for race keeps each image's sex). An
 * intersection's cross-entropy toward "Female×White" is the sum of its component heads'
 * cross-entropies (independent heads). Cross-entropies use the heads' calibrated logits
 * (logits / temperature), the same probabilities the targets came from.
 *
 * Semantic features: the subgroup classifier's penultimate layer (the project's FID encoder too,
 * so the regulariser guards what the quality audit measures), the same with the targeted heads'
 * directions removed ("classifier-blind", attributeBlindFeatures.ts), or per-image standardised
 * pixels (cos = Pearson correlation of the two images). "images" compares the images themselves
 * by their mean squared difference (not a cosine): brightness counts, which the standardised
 * pixels remove — and cxr-mini draws race as rib and clavicle brightness.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { componentClasses, type AlignmentAttribute } from "./alignmentAttributes";

/** The semantic features by name (the options' and the CLI's one list). */
export const SEMANTIC_FEATURE_KINDS = [
  "classifier",
  "classifier-blind",
  "pixels",
  "images",
] as const;

export type SemanticFeatures =
  (typeof SEMANTIC_FEATURE_KINDS)[number] | ((images: tf.Tensor4D) => tf.Tensor2D);

export interface AlignmentLossSpec {
  classifier: SubgroupClassifier;
  attributes: AlignmentAttribute[];
  /** Per attribute: the target group of each image, −1 where it gets no fairness loss. */
  labels: Int32Array[];
  /** Weight of the fairness cross-entropy (default 1). */
  fairnessWeight?: number;
  /** Per image: weight of its semantic term (0 turns the term off). */
  semanticWeights: Float32Array;
  /** Features of the original model's images from the same noise, [N, d]. */
  originalFeatures?: tf.Tensor2D;
  features: SemanticFeatures;
  /** "classifier-blind": the projection removing the targeted heads' directions (attributeBlindFeatures.ts). */
  featureProjection?: tf.Tensor2D;
  /**
   * The preservation term: untargeted attributes, each image's group as the original model's
   * image shows it (−1: not confident, left out), and the term's weight.
   */
  held?: { attributes: AlignmentAttribute[]; labels: Int32Array[]; weight: number };
}

export interface AlignmentLossTerms {
  total: tf.Scalar;
  fairness: tf.Scalar;
  semantic: tf.Scalar;
  preservation: tf.Scalar;
}

/** Final latents → images in [0, 1], exactly as generateImages makes them. */
export function latentsToUnitImages(
  model: LatentDiffusionModel,
  latents: tf.Tensor4D,
): tf.Tensor4D {
  return tf.tidy(() => {
    const images = model.autoencoder.latentsToImages(latents);
    return tf.clipByValue(tf.div(tf.add(images, 1), 2), 0, 1) as tf.Tensor4D;
  });
}

/** Semantic features of images in [0, 1]: [N, d]. */
export function semanticFeatures(
  features: SemanticFeatures,
  classifier: SubgroupClassifier,
  images: tf.Tensor4D,
  projection?: tf.Tensor2D,
): tf.Tensor2D {
  if (typeof features === "function") return features(images);
  if (features === "classifier") return classifier.network.features(images);
  if (features === "classifier-blind") {
    if (!projection) throw new Error('"classifier-blind" semantic features need their projection');
    return tf.tidy(() => tf.matMul(classifier.network.features(images), projection));
  }
  if (features === "images") return tf.reshape(images, [images.shape[0], -1]) as tf.Tensor2D;
  if (features === "pixels") {
    return tf.tidy(() => {
      const flat = tf.reshape(images, [images.shape[0], -1]);
      const { mean, variance } = tf.moments(flat, 1, true);
      return tf.div(tf.sub(flat, mean), tf.sqrt(tf.add(variance, 1e-8))) as tf.Tensor2D;
    });
  }
  throw new Error(
    `unknown semantic features "${String(features)}": expected classifier, classifier-blind, pixels, images or a function`,
  );
}

/** Row-wise cosine similarity of two [N, d] feature matrices. */
function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), 1);
    const norms = tf.mul(tf.norm(a, 2, 1), tf.norm(b, 2, 1));
    return tf.div(dot, tf.add(norms, 1e-8)) as tf.Tensor1D;
  });
}

/** Per head: log-probabilities from the calibrated logits (logits / temperature), [N, classes]. */
export function calibratedLogProbabilities(
  classifier: SubgroupClassifier,
  images: tf.Tensor4D,
): tf.Tensor2D[] {
  return classifier.network
    .logits(images)
    .map((l, h) => tf.logSoftmax(tf.div(l, classifier.temperatures[h])) as tf.Tensor2D);
}

/** Σ over attributes of (1/N)·Σ_i CE(classifier(x_i), y_i), rows with y_i < 0 left out. */
export function crossEntropyTerm(
  logProbabilities: tf.Tensor2D[],
  attributes: readonly AlignmentAttribute[],
  labels: readonly Int32Array[],
  n: number,
): tf.Scalar {
  let sum: tf.Scalar = tf.scalar(0);
  attributes.forEach((attribute, a) => {
    attribute.components.forEach(({ head, classes }, c) => {
      // Picks −log p(y_i) per image; rows without a target are all zero.
      const pick = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) {
        const label = labels[a][i];
        if (label < 0) continue;
        if (label >= attribute.groups.length) {
          throw new Error(`target group ${label} of image ${i} is outside "${attribute.name}"`);
        }
        pick[i * classes + componentClasses(attribute, label)[c]] = 1;
      }
      const crossEntropy = tf.neg(
        tf.sum(tf.mul(logProbabilities[head], tf.tensor2d(pick, [n, classes]))),
      );
      sum = tf.add(sum, tf.div(crossEntropy, n));
    });
  });
  return sum;
}

export function alignmentLoss(images: tf.Tensor4D, spec: AlignmentLossSpec): AlignmentLossTerms {
  const n = images.shape[0];
  const { classifier, attributes, labels, held } = spec;
  if (labels.length !== attributes.length) {
    throw new Error(`${labels.length} label sets for ${attributes.length} attributes`);
  }
  if (held && held.labels.length !== held.attributes.length) {
    throw new Error(
      `${held.labels.length} label sets for ${held.attributes.length} held attributes`,
    );
  }
  return tf.tidy(() => {
    const logProbabilities = calibratedLogProbabilities(classifier, images);
    const fairness = tf.mul(
      crossEntropyTerm(logProbabilities, attributes, labels, n),
      spec.fairnessWeight ?? 1,
    ) as tf.Scalar;
    let semantic: tf.Scalar = tf.scalar(0);
    if (spec.originalFeatures) {
      const current = semanticFeatures(spec.features, classifier, images, spec.featureProjection);
      const distance =
        spec.features === "images"
          ? tf.mean(tf.squaredDifference(current, spec.originalFeatures), 1)
          : tf.sub(1, rowCosine(current, spec.originalFeatures));
      semantic = tf.div(tf.sum(tf.mul(distance, tf.tensor1d(spec.semanticWeights))), n);
    }
    let preservation: tf.Scalar = tf.scalar(0);
    if (held && held.weight > 0) {
      preservation = tf.mul(
        crossEntropyTerm(logProbabilities, held.attributes, held.labels, n),
        held.weight,
      );
    }
    const total = tf.addN([fairness, semantic, preservation]) as tf.Scalar;
    return { total, fairness, semantic, preservation };
  });
}
