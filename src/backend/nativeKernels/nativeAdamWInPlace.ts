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
 * Updates `params`, `m` and `v` in place and returns how many new parameters would not have
 * been finite (0: done; otherwise nothing changed), or undefined where it cannot run here.
 */
export function adamWInPlace(
  params: tf.Tensor[],
  grads: tf.Tensor[],
  m: tf.Tensor[],
  v: tf.Tensor[],
  attrs: AdamWStepAttrs,
): number | undefined {
  if (tf.getBackend() !== "wasm" || !nativeKernelsActive()) return undefined;
  const addon = loadNativeKernels().addon;
  const backend = tf.backend() as WasmBackendLike;
  const written = [...params, ...m, ...v];
  const all = [...written, ...grads];
  if (all.some((t) => t.dtype !== "float32" || t.isDisposed)) return undefined;
  if (!addon || written.some((t) => backend.refCount(t.dataId) !== 1)) return undefined;
  // Each buffer written once and never read as a gradient.
  if (new Set(all.map((t) => t.dataId)).size !== all.length) return undefined;
  // Lists that do not match go to the kernel, whose checks name what is wrong.
  const n = params.length;
  if (grads.length !== n || m.length !== n || v.length !== n) return undefined;
  if ([grads, m, v].some((list) => list.some((t, i) => t.size !== params[i].size))) {
    return undefined;
  }
  const views = (list: tf.Tensor[]) => list.map((t) => heapFloats(backend, t));
  return addon.adamWInPlace(
    views(params),
    views(grads),
    views(m),
    views(v),
    Float64Array.from(adamWSettingsInOrder(attrs)),
  );
}
