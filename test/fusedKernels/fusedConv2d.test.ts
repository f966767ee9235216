/**
 * The fused convolution against autodiff through tf.conv2d + bias on cpu, wasm and WebGPU over a
 * grid of shapes (1×1 and 3×3 filters, strides 1 and 2, odd sizes where "same" padding is
 * uneven): output and the gradients of x, the filter and the bias within 1e-4; one kernel
 * forward, one backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fusedConv2d } from "../../src/backend/fusedKernels/fusedConv2d";
import { countKernels } from "../../bench/kernels";
import { eachBackend, maxAbsDiff, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

const CASES: { x: [number, number, number, number]; k: number; out: number; stride: number }[] = [
  { x: [2, 5, 5, 3], k: 3, out: 4, stride: 1 },
  { x: [1, 8, 8, 4], k: 3, out: 8, stride: 2 },
  { x: [2, 7, 6, 2], k: 3, out: 3, stride: 2 },
  { x: [3, 4, 4, 8], k: 1, out: 5, stride: 1 },
  { x: [1, 1, 1, 1], k: 3, out: 1, stride: 1 },
];

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

eachBackend("fused conv2d = conv2d + bias, values and gradients (≤ 1e-4)", async (backend) => {
  await useBackend(backend);
  for (const [i, c] of CASES.entries()) {
    const x = tf.tensor4d(seeded(size(c.x), 300 + i), c.x);
    const filterShape = [c.k, c.k, c.x[3], c.out] as [number, number, number, number];
    const filter = tf.tensor4d(seeded(size(filterShape), 310 + i), filterShape);
    const bias = tf.tensor1d(seeded(c.out, 320 + i));
    const plain = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.stride, "same"), b);
    const fused = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => fusedConv2d(a, w, b, c.stride);
    const outShape = tf.tidy(() => plain(x, filter, bias).shape);
    const weights = tf.tensor(seeded(size(outShape), 330 + i), outShape);
    const [ours, reference] = [fused, plain].map((f) => [
      tf.tidy(() => f(x, filter, bias)),
      ...tf.grads((a, w, b) => tf.sum(tf.mul(f(a, w, b), weights)))([x, filter, bias]),
    ]);
    for (let k = 0; k < ours.length; k++) {
      expect(ours[k].shape).toEqual(reference[k].shape);
      const diff = maxAbsDiff(await ours[k].data(), await reference[k].data());
      expect([i, ["y", "dx", "dW", "db"][k], diff <= 1e-4 ? "ok" : diff]).toEqual([
        i,
        ["y", "dx", "dW", "db"][k],
        "ok",
      ]);
    }
    const kernels = await countKernels(async () => {
      const grads = tf.grads((a, w, b) => tf.sum(fused(a, w, b)))([x, filter, bias]);
      tf.dispose(grads);
    });
    expect(kernels.byKernel.get("FairdiffConv2D")).toBe(1);
    expect(kernels.byKernel.get("FairdiffConv2DGrad")).toBe(1);
    expect(kernels.byKernel.get("Conv2DBackpropInput")).toBeUndefined();
    tf.dispose([x, filter, bias, weights, ...ours, ...reference]);
  }
  await useBackend("wasm");
});

test("a filter or bias that does not fit, or a bad stride, is refused, naming them", async () => {
  await useBackend("cpu");
  const x = tf.zeros([1, 4, 4, 3]);
  expect(() => fusedConv2d(x, tf.zeros([3, 3, 2, 4]), tf.zeros([4]), 1)).toThrow(
    /x \[1,4,4,3\] does not fit a filter \[3,3,2,4\]/,
  );
  expect(() => fusedConv2d(x, tf.zeros([3, 3, 3, 4]), tf.zeros([3]), 1)).toThrow(
    /bias has shape \[3\], expected \[4\]/,
  );
  expect(() => fusedConv2d(x, tf.zeros([3, 3, 3, 4]), tf.zeros([4]), 0)).toThrow(
    /stride must be a positive integer, got 0/,
  );
  tf.dispose(x);
  await useBackend("wasm");
});
