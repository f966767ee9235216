/**
 * Standard normal noise as a tensor, drawn from seeded generators so sampling is repeatable: one
 * generator for the whole tensor, or one per item of the leading (batch) axis.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";

export function gaussianNoise(shape: number[], rng: Rng | readonly Rng[]): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (!Array.isArray(rng)) {
    const single = rng as Rng;
    for (let i = 0; i < size; i++) values[i] = single.normal();
    return tf.tensor(values, shape, "float32");
  }
  const generators = rng as readonly Rng[];
  if (generators.length !== shape[0]) {
    throw new Error(`${generators.length} noise generators for a batch of ${shape[0]}`);
  }
  const per = size / shape[0];
  generators.forEach((generator, item) => {
    for (let j = 0; j < per; j++) values[item * per + j] = generator.normal();
  });
  return tf.tensor(values, shape, "float32");
}
