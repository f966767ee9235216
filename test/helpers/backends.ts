/** Runs a computation on a given backend and returns plain arrays, for cross-backend checks. */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";

export async function onBackend<T>(name: "wasm" | "cpu", compute: () => T): Promise<T> {
  await useBackend(name);
  return compute();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function seededValues(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

export function runOn(
  kernel: string,
  inputs: Record<
    string,
    { values: Float32Array | Int32Array; shape: number[]; dtype?: "float32" | "int32" }
  >,
  attrs: object,
): { values: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs))
      tensors[k] = tf.tensor(v.values, v.shape, v.dtype ?? "float32");
    const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { values: out.dataSync() as Float32Array, shape: out.shape };
  });
}
