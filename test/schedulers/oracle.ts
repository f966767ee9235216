/** Test helper: the exact network output for a known x₀ (so a perfect denoiser) at any timestep. */
import * as tf from "@tensorflow/tfjs-core";
import type { NoiseSchedule } from "../../src/schedulers/noiseSchedule";

export function oracleOutput(
  schedule: NoiseSchedule,
  original: tf.Tensor,
  sample: tf.Tensor,
  t: number,
): tf.Tensor {
  return tf.tidy(() => {
    const a = Math.sqrt(schedule.alphaBar(t));
    const s = Math.sqrt(1 - schedule.alphaBar(t));
    // The noise actually present in x_t.
    const epsilon = tf.div(tf.sub(sample, tf.mul(original, a)), s);
    switch (schedule.config.predictionType) {
      case "epsilon":
        return epsilon;
      case "v_prediction":
        return tf.sub(tf.mul(epsilon, a), tf.mul(original, s));
      case "sample":
        return original.clone();
    }
  });
}
