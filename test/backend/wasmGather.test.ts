/**
 * fairdiff's wasm GatherV2 (a block copy per index in the wasm heap) against the cpu backend:
 * every axis of ranks 1–4, indices of rank 0–2 with repeats, float32 / int32 / bool, the
 * gradient through the tape (UnsortedSegmentSum), and an out-of-range index refused by name.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { onBackend, seededValues } from "../helpers/backends";

type DType = "float32" | "int32" | "bool";

function values(size: number, seed: number, dtype: DType): number[] {
  return Array.from(seededValues(size, seed), (v) =>
    dtype === "float32" ? v : dtype === "int32" ? Math.round(v * 1000) : v > 0 ? 1 : 0,
  );
}

const SHAPES = [[5], [3, 4], [2, 3, 4], [2, 3, 2, 5]];
const INDICES: { values: number[]; shape: number[] }[] = [
  { values: [1], shape: [] },
  { values: [0, 2, 0, 1], shape: [4] },
  { values: [1, 0, 1, 1, 0, 0], shape: [2, 3] },
];

async function both<T>(compute: () => T): Promise<{ cpu: T; wasm: T }> {
  const cpu = await onBackend("cpu", compute);
  const wasm = await onBackend("wasm", compute);
  return { cpu, wasm };
}

describe("wasm GatherV2 matches cpu", () => {
  test("is fairdiff's kernel on wasm, and says so", async () => {
    const info = await useBackend("wasm");
    expect(info.addedKernels).toContain("GatherV2");
  });

  test("every axis, indices of rank 0–2, three dtypes", async () => {
    let cases = 0;
    for (const shape of SHAPES)
      for (let axis = 0; axis < shape.length; axis++)
        for (const indices of INDICES)
          for (const dtype of ["float32", "int32", "bool"] as DType[]) {
            const n = shape.reduce((a, b) => a * b, 1);
            const run = () =>
              tf.tidy(() => {
                const x = tf.tensor(values(n, 5 * axis + n, dtype), shape, dtype);
                const within = indices.values.map((i) => i % shape[axis]);
                const out = tf.gather(x, tf.tensor(within, indices.shape, "int32"), axis);
                return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
              });
            const { cpu, wasm } = await both(run);
            expect(wasm).toEqual(cpu);
            cases++;
          }
    expect(cases).toBe(90);
  });

  test("token embeddings and their gradient", async () => {
    const run = () =>
      tf.tidy(() => {
        const table = tf.tensor(seededValues(22 * 8, 3), [22, 8]);
        const tokens = tf.tensor(
          [
            [3, 0, 21, 3],
            [5, 5, 1, 0],
          ],
          [2, 4],
          "int32",
        );
        const w = tf.tensor(seededValues(8, 4), [8]);
        const [grad] = tf.grads((t: tf.Tensor) =>
          tf.sum(tf.mul(tf.square(tf.gather(t, tokens)), w)),
        )([table]);
        return Array.from(grad.dataSync());
      });
    const { cpu, wasm } = await both(run);
    expect(wasm).toEqual(cpu);
  });

  test("an index outside the axis is refused with its value and the range", async () => {
    await useBackend("wasm");
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
      expect(() => tf.gather(x, tf.tensor([0, 3], [2], "int32"))).toThrow(
        "GatherV2: the index value 3 is not in [0, 2]",
      );
      expect(() => tf.gather(x, tf.tensor([-1], [1], "int32"))).toThrow(/index value -1/);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
