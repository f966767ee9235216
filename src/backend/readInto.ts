/**
 * Copies a float32 tensor's values into an array the caller owns (shared memory a data-parallel
 * trainer reads): on wasm straight from the heap, on cpu from the backend's own array, so a
 * training step's gradients are read without allocating (downloading 300 gradients with data()
 * allocated a copy of each, 6 MB a step on cxr-mini, and cost a fifth of a half-batch step in
 * garbage collection). Other backends go through data().
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "./backendScope";

export async function readInto(t: tf.Tensor, target: Float32Array): Promise<void> {
  if (t.dtype !== "float32" || t.size !== target.length) {
    throw new Error(
      `readInto: a float32 tensor of ${target.length} values expected, got ${t.dtype} [${t.shape}]`,
    );
  }
  const backendName = tf.getBackend();
  if (backendName === "wasm") {
    target.set(heapFloats(tf.backend() as WasmBackendLike, t));
  } else if (backendName === "cpu") {
    target.set(
      (tf.backend() as unknown as { readSync(id: object): Float32Array }).readSync(t.dataId),
    );
  } else {
    target.set((await t.data()) as Float32Array);
  }
}
