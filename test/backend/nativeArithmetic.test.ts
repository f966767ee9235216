/**
 * The native Add / Sub / Multiply / RealDiv (broadcast either way) and Sum / Mean (any axes,
 * keepDims) of float32 on wasm (src/backend/nativeKernels/nativeArithmetic.ts) against the cpu
 * backend, and a nearest-neighbour upsampling's gradient (a broadcast Add forward, a Sum over the
 * repeated axes back) through the tape; other dtypes still go to tfjs's kernels.
 */
import * as tf from "@tensorflow/tfjs-core";
import { isHeapKernel } from "../../src/backend/nativeKernels/heapCall";
import { maxAbsDiff, onBackend, seededValues } from "../helpers/backends";
import { nativeTest } from "../helpers/nativeKernels";

const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ["Add", tf.add],
  ["Sub", tf.sub],
  ["Multiply", tf.mul],
  // Away from 0 for the divisor.
  ["RealDiv", (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
];

const SHAPE_PAIRS: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [[2, 3, 4], [4]],
  [[4], [2, 3, 4]],
  [
    [2, 1, 4],
    [1, 3, 1],
  ],
  [
    [3, 1, 4, 1, 5],
    [1, 2, 1, 2, 1],
  ],
  [[2, 3], []],
  [[], [5]],
  [
    [2, 1, 3, 1, 2, 1],
    [1, 2, 1, 2, 1, 2],
  ],
  [
    [1, 1],
    [1, 1],
  ],
  [[0, 3], [3]],
];

const REDUCTIONS: [number[], number | number[] | undefined, boolean][] = [
  [[2, 3, 4], undefined, false],
  [[2, 3, 4], 0, false],
  [[2, 3, 4], 2, true],
  [[2, 3, 4], [0, 2], false],
  [[6, 2, 4, 2, 5], [1, 3], false],
  [[16, 15, 8], 0, false],
  [[3, 1, 4], 1, true],
  [[5], 0, true],
  [[2, 0, 3], 1, false],
];

async function onBoth<T>(compute: () => T): Promise<{ cpu: T; wasm: T }> {
  return { cpu: await onBackend("cpu", compute), wasm: await onBackend("wasm", compute) };
}

const tensor = (shape: number[], seed: number) =>
  tf.tensor(seededValues(tf.util.sizeFromShape(shape), seed), shape);

describe("native arithmetic on wasm", () => {
  nativeTest("the float32 kernels are planned native calls", async () => {
    await onBackend("wasm", () => {
      for (const name of ["Add", "Sub", "Multiply", "RealDiv", "Sum", "Mean", "Concat"]) {
        expect(isHeapKernel(tf.getKernel(name, "wasm") as tf.KernelConfig)).toBe(true);
      }
    });
  });

  nativeTest("binary ops broadcast either way: cpu's floats", async () => {
    for (const [name, op] of BINARY)
      for (const [sa, sb] of SHAPE_PAIRS) {
        const run = () =>
          tf.tidy(() => {
            const out = op(tensor(sa, 1), tensor(sb, 2));
            return { shape: out.shape, values: Array.from(out.dataSync()) };
          });
        const { cpu, wasm } = await onBoth(run);
        expect({ name, sa, sb, shape: wasm.shape }).toEqual({ name, sa, sb, shape: cpu.shape });
        expect({ name, sa, sb, diff: maxAbsDiff(wasm.values, cpu.values) <= 1e-6 }).toEqual({
          name,
          sa,
          sb,
          diff: true,
        });
      }
  });

  nativeTest("Sum and Mean over any axes, keepDims or not: cpu's floats", async () => {
    for (const [shape, axis, keepDims] of REDUCTIONS)
      for (const mean of [false, true]) {
        if (mean && tf.util.sizeFromShape(shape) === 0) continue;
        const run = () =>
          tf.tidy(() => {
            const x = tensor(shape, 3);
            const out = mean ? tf.mean(x, axis, keepDims) : tf.sum(x, axis, keepDims);
            return { shape: out.shape, values: Array.from(out.dataSync()) };
          });
        const { cpu, wasm } = await onBoth(run);
        expect({ shape, axis, mean, out: wasm.shape }).toEqual({
          shape,
          axis,
          mean,
          out: cpu.shape,
        });
        expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
      }
  });

  nativeTest("an upsampling's gradient through the tape, and int32 still exact", async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tensor([2, 3, 3, 4], 4);
        const w = tensor([2, 6, 6, 4], 5);
        const [dx] = tf.grads((a: tf.Tensor) => {
          const repeated = tf.add(tf.reshape(a, [6, 1, 3, 1, 4]), tf.zeros([1, 2, 1, 2, 1]));
          return tf.sum(tf.mul(tf.square(tf.reshape(repeated, [2, 6, 6, 4])), w));
        })([x]);
        const ints = tf.add(tf.tensor([1, 2, 3], [3], "int32"), tf.tensor([7], [1], "int32"));
        return { dx: Array.from(dx.dataSync()), ints: Array.from(ints.dataSync()) };
      });
    const { cpu, wasm } = await onBoth(run);
    expect(maxAbsDiff(wasm.dx, cpu.dx)).toBeLessThanOrEqual(1e-5);
    expect(wasm.ints).toEqual([8, 9, 10]);
    expect(tf.memory().numTensors).toBe(0);
  });
});
