/**
 * Activations tfjs-core lacks. Each has a hand-written gradient: fewer kernels per step than
 * autodiff through its pieces, which matters on wasm where per-kernel overhead is a large share
 * of a small model's step. test/models/fusedGradients.test.ts checks them against autodiff.
 */
import * as tf from "@tensorflow/tfjs-core";

// GELU's tanh form as a logistic: ½x(1 + tanh(u)) = x·σ(2u), u = √(2/π)(x + 0.044715x³).
// tfjs-wasm's Sigmoid is XNNPACK's vectorised kernel; its Tanh is a scalar loop, 10–20× slower.
const TWO_SQRT_2_OVER_PI = 2 * Math.sqrt(2 / Math.PI);
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
  // v = 2u = x·(c + c·k·x²)
  const v = tf.mul(
    x,
    tf.add(tf.mul(tf.square(x), TWO_SQRT_2_OVER_PI * GELU_CUBIC), TWO_SQRT_2_OVER_PI),
  );
  const s = tf.sigmoid(v);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    // d/dx x·σ(v) = σ(v) + x·σ(v)(1 − σ(v))·c(1 + 3k·x²)
    gradFunc: (dy: tf.Tensor, [savedX, savedS]: tf.Tensor[]) => {
      const dv = tf.add(
        tf.mul(tf.square(savedX), 3 * GELU_CUBIC * TWO_SQRT_2_OVER_PI),
        TWO_SQRT_2_OVER_PI,
      );
      const slope = tf.mul(tf.mul(savedX, tf.mul(savedS, tf.sub(1, savedS))), dv);
      return tf.mul(dy, tf.add(savedS, slope));
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
