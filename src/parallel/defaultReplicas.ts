/**
 * How many replicas a training run uses unless told: one per core (at most 4) on the CPU
 * backends, one on GPU backends. With fairdiff's native kernels too: their thread pool barely
 * splits a training step's many small products (cxr-mini at batch 32 on two cores, after
 * warm-up: 97 ms a step with a pool of 2 against 99 with one thread), while two replicas, each
 * one thread on half the batch, take ~70 ms (README, *Performance*).
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";

export function defaultReplicas(): number {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}
