/**
 * Activations tfjs-core lacks. Each has a hand-written gradient: fewer kernels per step than
 * autodiff through its pieces, which matters on wasm where per-kernel overhead is a large share
 * of a small model's step. test/models/fusedGradients.test.ts checks them against autodiff.
 */
import * as tf from "@tensorflow/tfjs-core";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

const siluOp = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = inputs as [tf.Tensor, tf.GradSaveFunc];
  const sigmoid = tf.sigmoid(x);
  save([x, sigmoid]);
  return {
    value: tf.mul(x, sigmoid),
    // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
    gradFunc: (dy: tf.Tensor, [savedX, s]: tf.Tensor[]) =>
      tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(savedX, tf.sub(1, s))))),
  };
});

const geluOp = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = inputs as [tf.Tensor, tf.GradSaveFunc];
  const squared = tf.square(x);
  const t = tf.tanh(tf.mul(tf.mul(x, tf.add(1, tf.mul(squared, GELU_CUBIC))), SQRT_2_OVER_PI));
  save([x, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    // ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715·x²)
    gradFunc: (dy: tf.Tensor, [savedX, savedT]: tf.Tensor[]) => {
      const inner = tf.mul(tf.add(1, tf.mul(tf.square(savedX), 3 * GELU_CUBIC)), SQRT_2_OVER_PI);
      const slope = tf.mul(tf.mul(savedX, tf.sub(1, tf.square(savedT))), inner);
      return tf.mul(dy, tf.mul(tf.add(tf.add(savedT, 1), slope), 0.5));
    },
  };
});

/** SiLU / swish: x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return siluOp(x);
}

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluOp(x);
}
