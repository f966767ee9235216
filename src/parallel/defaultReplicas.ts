/**
 * How many replicas a training run uses unless told: one per core (at most 4) on the CPU
 * backends, one on GPU backends. With fairdiff's native kernels too: their thread pool splits a
 * training step's many small products poorly (cxr-mini at batch 32 on two cores: 1.09–1.29× one
 * thread), while two replicas of one thread, each on half the batch, give 1.36–1.54× (README,
 * *Performance*).
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";

export function defaultReplicas(): number {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}
