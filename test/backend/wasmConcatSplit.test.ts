/**
 * fairdiff's wasm Concat and SplitV (block copies in the wasm heap) against the cpu backend:
 * every axis of ranks 1–4, two and three parts, float32 / int32 / bool, empty parts, split sizes
 * with −1, and a concat's gradient (a split) through the tape.
 */
import * as tf from "@tensorflow/tfjs-core";
import { onBackend, seededValues } from "../helpers/backends";

type DType = "float32" | "int32" | "bool";

function values(size: number, seed: number, dtype: DType): number[] {
  return Array.from(seededValues(size, seed), (v) =>
    dtype === "float32" ? v : dtype === "int32" ? Math.round(v * 1000) : v > 0 ? 1 : 0,
  );
}

/** The shape `base` with `axis` set to `size`. */
const along = (base: number[], axis: number, size: number) =>
  base.map((d, i) => (i === axis ? size : d));

async function both<T>(compute: () => T): Promise<{ cpu: T; wasm: T }> {
  const cpu = await onBackend("cpu", compute);
  const wasm = await onBackend("wasm", compute);
  return { cpu, wasm };
}

const BASES = [[5], [3, 4], [2, 3, 4], [2, 3, 2, 5]];

describe("wasm Concat and SplitV match cpu", () => {
  test("concat: every axis, 2 and 3 parts (one empty), three dtypes", async () => {
    let cases = 0;
    for (const base of BASES)
      for (let axis = 0; axis < base.length; axis++)
        for (const sizes of [
          [2, 3],
          [1, 0, 4],
        ])
          for (const dtype of ["float32", "int32", "bool"] as DType[]) {
            const run = () =>
              tf.tidy(() => {
                const parts = sizes.map((s, k) => {
                  const shape = along(base, axis, s);
                  const n = shape.reduce((a, b) => a * b, 1);
                  return tf.tensor(values(n, 17 * k + axis, dtype), shape, dtype);
                });
                const out = tf.concat(parts, axis);
                return { shape: out.shape, values: Array.from(out.dataSync()) };
              });
            const { cpu, wasm } = await both(run);
            expect(wasm.shape).toEqual(cpu.shape);
            expect(wasm.values).toEqual(cpu.values);
            cases++;
          }
    expect(cases).toBe(60);
  });

  test("split: every axis, sizes with −1 and an empty piece, three dtypes", async () => {
    for (const base of BASES)
      for (let axis = 0; axis < base.length; axis++)
        for (const dtype of ["float32", "int32", "bool"] as DType[]) {
          const total = 6;
          const shape = along(base, axis, total);
          const n = shape.reduce((a, b) => a * b, 1);
          for (const sizes of [[2, -1], [1, 0, 5], 3] as (number[] | number)[]) {
            const run = () =>
              tf.tidy(() =>
                tf
                  .split(tf.tensor(values(n, axis + 3, dtype), shape, dtype), sizes, axis)
                  .map((p) => ({ shape: p.shape, values: Array.from(p.dataSync()) })),
              );
            const { cpu, wasm } = await both(run);
            expect(wasm).toEqual(cpu);
          }
        }
  });

  test("a UNet skip connection's concat and its gradient", async () => {
    const run = () =>
      tf.tidy(() => {
        const a = tf.tensor(seededValues(2 * 4 * 4 * 8, 1), [2, 4, 4, 8]);
        const b = tf.tensor(seededValues(2 * 4 * 4 * 5, 2), [2, 4, 4, 5]);
        const w = tf.tensor(seededValues(13, 3), [13]);
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.square(tf.concat([x, y], 3)), w)),
        )([a, b]);
        return grads.map((g) => Array.from(g.dataSync()));
      });
    const { cpu, wasm } = await both(run);
    expect(wasm).toEqual(cpu);
    expect(tf.memory().numTensors).toBe(0);
  });
});
