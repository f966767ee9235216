/** Activations tfjs-core lacks, built from ops every backend (wasm included) differentiates. */
import * as tf from "@tensorflow/tfjs-core";

/** SiLU / swish: x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** GELU, tanh approximation (as in GPT-2 / CLIP's "quick" variants' ancestors). */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(
    tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)),
    Math.sqrt(2 / Math.PI),
  );
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}
