/** Optimizers as plain data, so every replica builds the identical one. */
import * as tf from "@tensorflow/tfjs-core";

export type OptimizerSpec =
  | { name: "adam"; learningRate: number; beta1?: number; beta2?: number; epsilon?: number }
  | { name: "sgd"; learningRate: number };

export function buildOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (!(spec.learningRate > 0))
    throw new Error(`learningRate must be > 0, got ${spec.learningRate}`);
  switch (spec.name) {
    case "adam":
      return tf.train.adam(
        spec.learningRate,
        spec.beta1 ?? 0.9,
        spec.beta2 ?? 0.999,
        spec.epsilon ?? 1e-7,
      );
    case "sgd":
      return tf.train.sgd(spec.learningRate);
    default:
      throw new Error(`unknown optimizer ${JSON.stringify(spec)}`);
  }
}
