/**
 * Batches for training loops: seeded shuffling per epoch and streaming through an async
 * iterator, so a dataset larger than memory is read one batch at a time (decoded images are
 * kept only in the dataset's bounded cache).
 */
import { createRng } from "../util/random";
import type { MedicalDataset, MedicalSample } from "./medicalSample";

export interface ImageBatch {
  /** NHWC float32 in [0, 1]. */
  images: Float32Array;
  shape: [number, number, number, number];
  samples: MedicalSample[];
  /** Dataset indices of the samples, in batch order. */
  indices: number[];
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle with this seed (a different order each epoch: seed + epoch). Omit to keep order. */
  seed?: number;
  epoch?: number;
  /** Drop a last batch smaller than batchSize. */
  dropLast?: boolean;
}

/** Stacks equally sized images into one NHWC array; names the first mismatching sample. */
export function stackImages(samples: readonly MedicalSample[]): {
  images: Float32Array;
  shape: [number, number, number, number];
} {
  if (samples.length === 0) throw new Error("cannot stack an empty batch");
  const { width, height, channels } = samples[0].image;
  const per = width * height * channels;
  const images = new Float32Array(samples.length * per);
  samples.forEach((s, i) => {
    const im = s.image;
    if (im.width !== width || im.height !== height || im.channels !== channels) {
      throw new Error(
        `sample ${s.id} is ${im.width}×${im.height}×${im.channels}, batch is ${width}×${height}×${channels}`,
      );
    }
    images.set(im.data, i * per);
  });
  return { images, shape: [samples.length, height, width, channels] };
}

/** Streams batches of `indices` (default: all) from `dataset`. */
export async function* iterateBatches(
  dataset: MedicalDataset,
  options: BatchOptions,
  indices?: readonly number[],
): AsyncGenerator<ImageBatch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = [...(indices ?? dataset.records.map((_, i) => i))];
  if (options.seed !== undefined) createRng(options.seed + (options.epoch ?? 0)).shuffle(order);
  for (let start = 0; start < order.length; start += batchSize) {
    const batchIndices = order.slice(start, start + batchSize);
    if (options.dropLast && batchIndices.length < batchSize) return;
    const samples = await Promise.all(batchIndices.map((i) => dataset.load(i)));
    yield { ...stackImages(samples), samples, indices: batchIndices };
  }
}
