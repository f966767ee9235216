/**
 * A labelled set's images → one feature row per image, through a `FeatureExtractor`, in batches
 * (so a large set never sits on the device as one tensor). Shared by the audits that compare
 * images in an extractor's space.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { FeatureExtractor } from "../features/featureExtractor";
import type { RasterImage } from "../io/rasterImage";
import type { FeatureMatrix } from "./qualityFid";
import { imageBatch, imageCount } from "./qualityImageSet";

/** The extractor's features of a batch, checking it gave one row of `dimension` per image. */
export async function extractRows(
  extractor: FeatureExtractor,
  batch: tf.Tensor4D,
): Promise<Float64Array> {
  const features = await extractor.extract(batch);
  const expected = batch.shape[0] * extractor.info.dimension;
  if (features.length !== expected) {
    throw new Error(
      `extractor "${extractor.info.name}" returned ${features.length} values for ${batch.shape[0]} images; expected ${batch.shape[0]} × ${extractor.info.dimension}`,
    );
  }
  return features;
}

export interface ExtractAllOptions {
  /** Images per extractor call. */
  batchSize: number;
  signal?: AbortSignal;
  /** The Error's message when the signal has fired (default "feature extraction aborted"). */
  abortMessage?: string;
  /** Images done so far, after each batch. */
  onBatch?: (done: number) => void;
}

/** Features of every image of a set, in batches. */
export async function extractAll(
  extractor: FeatureExtractor,
  images: RasterImage[] | tf.Tensor4D,
  options: ExtractAllOptions,
): Promise<FeatureMatrix> {
  const n = imageCount(images);
  const d = extractor.info.dimension;
  const values = new Float64Array(n * d);
  for (let start = 0; start < n; start += options.batchSize) {
    if (options.signal?.aborted) {
      throw new Error(options.abortMessage ?? "feature extraction aborted");
    }
    const count = Math.min(options.batchSize, n - start);
    const batch = imageBatch(images, start, count);
    try {
      values.set(await extractRows(extractor, batch), start * d);
    } finally {
      batch.dispose();
    }
    options.onBatch?.(start + count);
  }
  return { values, dimension: d };
}
