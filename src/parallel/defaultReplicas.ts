/**
 * How many replicas a training run uses unless told: one per core (at most 4) on the CPU
 * backends, one on GPU backends. With fairdiff's native kernels too: at cxr-mini's batch of 32 on
 * two cores their thread pool and two replicas of one thread now gain about as much (1.28–1.46×
 * and 1.22–1.43× one thread), but replicas also scale with a batch per core (1.62–1.76× the
 * images a second at 32 each) and with the cores, where the pool's serial share stays (README,
 * *Performance*).
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";

export function defaultReplicas(): number {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}
