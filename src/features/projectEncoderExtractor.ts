/**
 * The default feature extractor: an encoder the project trains. It is the shipped cohort
 * classifier (models/cxr-classifier.fdckpt, a SubgroupClassifier) read at its penultimate layer —
 * the 64 ReLU units of the dense layer that every head (sex, race, age band, findings) reads.
 *
 * What its FID measures: distances in a space built to separate the cohort's subgroups and
 * findings, so it is most sensitive to whether generated images carry the right anatomical cues;
 * it is not a general-purpose perceptual space like Inception-v3's, and figures are not
 * comparable with published Inception FIDs. Dead ReLU units give constant (zero-variance)
 * features; the Fréchet distance handles the rank-deficient covariances exactly.
 */
import * as tf from "@tensorflow/tfjs-core";
import { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { assertImageBatch, type FeatureExtractor } from "./featureExtractor";
import { shippedModelPath } from "./packageRoot";

export const DEFAULT_ENCODER_FILE = "cxr-classifier.fdckpt";
export const DEFAULT_ENCODER_NAME = "fairdiff-cxr-classifier-penultimate";

export interface ProjectEncoderOptions {
  /** Stable id for the figures (default: "fairdiff-<cohort>-classifier-penultimate"). */
  name?: string;
  /** Images per network call (default 128). */
  batchSize?: number;
}

/** Wraps a trained subgroup classifier; `dispose()` disposes the classifier too. */
export function projectEncoderExtractor(
  classifier: SubgroupClassifier,
  options: ProjectEncoderOptions = {},
): FeatureExtractor {
  const network = classifier.network;
  const { imageSize, imageChannels } = network.config;
  const cohort =
    typeof classifier.provenance.cohort === "string" ? classifier.provenance.cohort : "";
  const name =
    options.name ??
    (cohort ? `fairdiff-${cohort}-classifier-penultimate` : "fairdiff-classifier-penultimate");
  const dimension = network.featureSize;
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const heads = classifier.tasks.map((t) => t.name).join(", ");
  return {
    info: {
      name,
      kind: "project-encoder",
      dimension,
      description:
        `Penultimate ${dimension} ReLU activations of fairdiff's subgroup classifier ` +
        `(${imageSize}×${imageSize}×${imageChannels} input; heads: ${heads})`,
    },
    async extract(images: tf.Tensor4D): Promise<Float64Array> {
      assertImageBatch(images, name);
      const [n, h, w, c] = images.shape;
      if (h !== imageSize || w !== imageSize || c !== imageChannels) {
        throw new Error(
          `${name}: images are ${h}×${w}×${c}, the encoder needs ${imageSize}×${imageSize}×${imageChannels}`,
        );
      }
      const out = new Float64Array(n * dimension);
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        const features = tf.tidy(() =>
          network.features(images.slice([start, 0, 0, 0], [count, -1, -1, -1]) as tf.Tensor4D),
        );
        try {
          out.set(await features.data(), start * dimension);
        } finally {
          features.dispose();
        }
      }
      return out;
    },
    dispose(): void {
      classifier.dispose();
    },
  };
}

/** The shipped chest-radiograph encoder, loaded from the package's models/ folder. */
export function defaultFeatureExtractor(options: ProjectEncoderOptions = {}): FeatureExtractor {
  const classifier = SubgroupClassifier.load(shippedModelPath(DEFAULT_ENCODER_FILE));
  return projectEncoderExtractor(classifier, { name: DEFAULT_ENCODER_NAME, ...options });
}
