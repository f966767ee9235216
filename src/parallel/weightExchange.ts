/**
 * How data-parallel replicas hand each other the weights each updated (updatePartition.ts):
 * through one shared array of every variable laid one after another. On wasm a variable is read
 * from, and written into, the heap where it lives (no tensor made), as the in-place update writes
 * it — by one native copy where the kernels are built (JavaScript copies shared memory element by
 * element); elsewhere, or where another tensor shares its buffer, it is read with data() and
 * assigned.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backend/backendScope";
import { loadNativeKernels, type NativeAddon } from "../backend/nativeKernels/nativeAddon";
import { nativeKernelsActive } from "../backend/nativeKernels/registerNativeKernels";
import { readInto } from "../backend/readInto";

/** Copies `variables` (consecutive) into `into`, one after another. */
export async function publishWeights(variables: tf.Variable[], into: Float32Array): Promise<void> {
  const native = heapViews(variables, false);
  if (native) return native.addon.copyPieces(into, native.views, false);
  let offset = 0;
  for (const v of variables) {
    await readInto(v, into.subarray(offset, offset + v.size));
    offset += v.size;
  }
}

/** Sets `variables` (consecutive) to the values laid one after another in `from`. */
export function adoptWeights(variables: tf.Variable[], from: Float32Array): void {
  const native = heapViews(variables, true);
  if (native) return native.addon.copyPieces(from, native.views, true);
  let offset = 0;
  for (const v of variables) {
    const values = from.subarray(offset, offset + v.size);
    offset += v.size;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, "float32")));
  }
}

/**
 * The native copy and the variables' values where wasm keeps them; undefined where it cannot
 * run, or (`written`) where another tensor shares a buffer (a clone, a saved input must keep
 * the old values).
 */
function heapViews(
  variables: tf.Variable[],
  written: boolean,
): { addon: NativeAddon; views: Float32Array[] } | undefined {
  const { addon } = loadNativeKernels();
  if (!addon || tf.getBackend() !== "wasm" || !nativeKernelsActive()) return undefined;
  const wasm = tf.backend() as WasmBackendLike;
  if (variables.some((v) => v.dtype !== "float32" || (written && wasm.refCount(v.dataId) !== 1))) {
    return undefined;
  }
  return { addon, views: variables.map((v) => heapFloats(wasm, v)) };
}
