/**
 * How many replicas a training run uses unless told: one per core (at most 4) on the CPU
 * backends, which run one thread each; one on GPU and native backends, and on wasm with
 * fairdiff's native kernels, which parallelise inside.
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { nativeKernelsActive } from "../backend/nativeKernels/registerNativeKernels";

export function defaultReplicas(): number {
  const backend = tf.getBackend();
  if ((backend !== "wasm" && backend !== "cpu") || nativeKernelsActive()) return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}
