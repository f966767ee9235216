/**
 * How many replicas a training run uses unless told: one per core (at most 4) on the CPU
 * backends, which run one thread each; one on GPU and native backends, which parallelise inside.
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";

export function defaultReplicas(): number {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}
