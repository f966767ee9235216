/**
 * AdamW applied where the weights live: on wasm with the native kernels, parameters and moments
 * are updated in the wasm heap by one native call, instead of FairdiffFusedAdamW's 3 outputs per
 * variable that the engine then tracks, assigns and frees (~900 tensors a step on cxr-mini:
 * 8.2 ms a step where the arithmetic takes ~3.5). The same floats (native/src/adamw.cc shares
 * the kernel's arithmetic), and the same refusal: a step whose new parameters would not all be
 * finite writes nothing.
 *
 * Only where no other tensor shares a weight's or moment's buffer (a clone, a reshape, a tensor
 * a gradient saved): tfjs tensors are immutable, so a shared buffer keeps the kernel's copy.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backendScope";
import { adamWSettingsInOrder, type AdamWStepAttrs } from "../fusedKernels/fusedAdamW";
import { loadNativeKernels } from "./nativeAddon";
import { nativeKernelsActive } from "./registerNativeKernels";

/**
 * Which passes of the in-place update run: count the new parameters that would not be finite and
 * write only when none would be; count only; or write only, after a count of 0 on the same
 * arguments (data-parallel replicas agree on the count before any of them writes).
 */
export type AdamWPass = "countAndWrite" | "count" | "writeCounted";

/**
 * Updates `params`, `m` and `v` in place and returns how many new parameters would not have
 * been finite (0: done; otherwise nothing changed), or undefined where it cannot run here; `pass`
 * splits the count from the write.
 */
export function adamWInPlace(
  params: tf.Tensor[],
  grads: tf.Tensor[],
  m: tf.Tensor[],
  v: tf.Tensor[],
  attrs: AdamWStepAttrs,
  bounds?: UpdateBounds,
  pass: AdamWPass = "countAndWrite",
): number | undefined {
  const backend = updatableHere([...params, ...m, ...v], grads);
  if (!backend) return undefined;
  // Lists that do not match go to the kernel, whose checks name what is wrong.
  if (grads.length !== params.length || grads.some((g, i) => g.size !== params[i].size)) {
    return undefined;
  }
  return update(
    backend,
    params,
    m,
    v,
    attrs,
    grads.map((t) => heapFloats(backend, t)),
    bounds,
    pass,
  );
}

/**
 * `adamWInPlace` with the gradient in host memory, one array per variable (data-parallel
 * replicas' summed shares, in shared memory), read where it is: not copied or uploaded first. A
 * pass that writes also writes the new parameters into `published` where given, one variable
 * after another (a replica's handover), in the same pass.
 */
export function adamWInPlaceFromHost(
  params: tf.Tensor[],
  grads: Float32Array[],
  m: tf.Tensor[],
  v: tf.Tensor[],
  attrs: AdamWStepAttrs,
  bounds?: UpdateBounds,
  pass: AdamWPass = "countAndWrite",
  published?: Float32Array,
): number | undefined {
  const backend = updatableHere([...params, ...m, ...v], []);
  if (!backend) return undefined;
  if (grads.length !== params.length || grads.some((g, i) => g.length !== params[i].size)) {
    throw new Error(`expected ${params.length} gradients, one the size of each variable`);
  }
  return update(backend, params, m, v, attrs, grads, bounds, pass, published);
}

/**
 * The wasm backend, where the native call may update `written` in place and read `read`:
 * float32, alive, no other tensor sharing a written buffer, no buffer twice.
 */
function updatableHere(written: tf.Tensor[], read: tf.Tensor[]): WasmBackendLike | undefined {
  if (tf.getBackend() !== "wasm" || !nativeKernelsActive()) return undefined;
  const backend = tf.backend() as WasmBackendLike;
  const all = [...written, ...read];
  if (all.some((t) => t.dtype !== "float32" || t.isDisposed)) return undefined;
  if (written.some((t) => backend.refCount(t.dataId) !== 1)) return undefined;
  // Each buffer written once and never read as a gradient.
  if (new Set(all.map((t) => t.dataId)).size !== all.length) return undefined;
  return backend;
}

function update(
  backend: WasmBackendLike,
  params: tf.Tensor[],
  m: tf.Tensor[],
  v: tf.Tensor[],
  attrs: AdamWStepAttrs,
  grads: Float32Array[],
  bounds: UpdateBounds | undefined,
  pass: AdamWPass,
  published?: Float32Array,
): number | undefined {
  const addon = loadNativeKernels().addon;
  const n = params.length;
  if (!addon || m.length !== n || v.length !== n) return undefined;
  if ([m, v].some((list) => list.some((t, i) => t.size !== params[i].size))) return undefined;
  const views = (list: tf.Tensor[]) => list.map((t) => heapFloats(backend, t));
  const call = {
    countAndWrite: addon.adamWInPlace,
    count: addon.adamWNonFinite,
    writeCounted: addon.adamWWriteCounted,
  }[pass];
  const nonFinite = call(
    views(params),
    views(m),
    views(v),
    Float64Array.from(adamWSettingsInOrder(attrs)),
    grads,
    bounds?.prepare(params, m, v),
    published,
  );
  if (pass !== "count" && nonFinite === 0) bounds?.written(params, m, v);
  return nonFinite;
}

/**
 * What the last in-place update left in each tensor (the largest |p|, |m| and v, written by the
 * native update), tied to the buffers it wrote: the next update's non-finite check then reads
 * only the gradient where they prove the new weights finite (a quarter of the bytes). A buffer
 * replaced since (an assign, a restored state) makes its tensor unknown again; only this update
 * writes into the buffers it tracks.
 */
export class UpdateBounds {
  private values = new Int32Array(0);
  private readonly buffers: object[] = [];

  /** The array for the native call: known only where p, m and v are the buffers last written. */
  prepare(params: tf.Tensor[], m: tf.Tensor[], v: tf.Tensor[]): Int32Array {
    if (this.values.length !== 4 * params.length) this.values = new Int32Array(4 * params.length);
    const b = this.buffers;
    params.forEach((p, t) => {
      if (b[3 * t] !== p.dataId || b[3 * t + 1] !== m[t].dataId || b[3 * t + 2] !== v[t].dataId) {
        this.values[4 * t] = 0;
      }
    });
    return this.values;
  }

  /** After an update that wrote: the bounds now describe these buffers. */
  written(params: tf.Tensor[], m: tf.Tensor[], v: tf.Tensor[]): void {
    // Filled in place: a flatMap's 300 small arrays took ~0.25 ms of every step.
    const b = this.buffers;
    b.length = 3 * params.length;
    for (let t = 0; t < params.length; t++) {
      b[3 * t] = params[t].dataId;
      b[3 * t + 1] = m[t].dataId;
      b[3 * t + 2] = v[t].dataId;
    }
  }
}
