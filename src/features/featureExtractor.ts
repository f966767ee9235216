/**
 * A feature extractor turns images into fixed-length vectors for Fréchet distances. There is no
 * Inception-v3 here (its weights cannot be fetched), so the extractor is a parameter and every
 * FID names the extractor that produced it (`info`).
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { FeatureExtractorInfo } from "../audit/qualityTypes";

export type { FeatureExtractorInfo };

export interface FeatureExtractor {
  readonly info: FeatureExtractorInfo;
  /**
   * images [n, h, w, c] in [0, 1] → n × info.dimension features, row-major, float64. Does not
   * dispose `images` (the caller owns them).
   */
  extract(images: tf.Tensor4D): Promise<Float64Array>;
  /** Frees the extractor's weights (a no-op for weight-free extractors). */
  dispose(): void;
}

/** Checks a batch before extraction: rank 4, at least one image, values meant to be in [0, 1]. */
export function assertImageBatch(images: tf.Tensor, extractor: string): void {
  if (images.rank !== 4) {
    throw new Error(
      `${extractor}: images must be a [n, height, width, channels] tensor, got shape [${images.shape.join(", ")}]`,
    );
  }
}
