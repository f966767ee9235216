/**
 * How data-parallel replicas hand each other the weights each updated (updatePartition.ts):
 * through one shared array of every variable laid one after another. On wasm a variable is read
 * from, and written into, the heap where it lives (no tensor made), as the in-place update writes
 * it; elsewhere, or where another tensor shares its buffer, it is read with data() and assigned.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backend/backendScope";
import { readInto } from "../backend/readInto";

/** Copies `variables` (consecutive) into `into`, one after another. */
export async function publishWeights(variables: tf.Variable[], into: Float32Array): Promise<void> {
  let offset = 0;
  for (const v of variables) {
    await readInto(v, into.subarray(offset, offset + v.size));
    offset += v.size;
  }
}

/** Sets `variables` (consecutive) to the values laid one after another in `from`. */
export function adoptWeights(variables: tf.Variable[], from: Float32Array): void {
  const wasm = tf.getBackend() === "wasm" ? (tf.backend() as WasmBackendLike) : undefined;
  let offset = 0;
  for (const v of variables) {
    const values = from.subarray(offset, offset + v.size);
    offset += v.size;
    // A tensor sharing the buffer (a clone, a saved input) must keep the old values.
    if (wasm && v.dtype === "float32" && wasm.refCount(v.dataId) === 1) {
      heapFloats(wasm, v).set(values);
    } else {
      tf.tidy(() => v.assign(tf.tensor(values, v.shape, "float32")));
    }
  }
}
