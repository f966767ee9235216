/** Standard normal noise as a tensor, drawn from a seeded `Rng` so sampling is repeatable. */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";

export function gaussianNoise(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal();
  return tf.tensor(values, shape, "float32");
}
