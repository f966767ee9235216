/**
 * The fused convolution against autodiff through tf.conv2d + bias on cpu, wasm and WebGPU over a
 * grid of shapes (1×1 and 3×3 filters, strides 1 and 2, odd sizes where "same" padding is
 * uneven), alone, with a per-sample shift and with a residual: output and the gradients of x,
 * the filter, the bias and the addend within 1e-4; one kernel forward, one backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fusedConv2d, type ConvAddend } from "../../src/backend/fusedKernels/fusedConv2d";
import { countKernels } from "../../bench/kernels";
import { eachBackend, expectSameOutputs, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

const SHAPES: { x: [number, number, number, number]; k: number; out: number; stride: number }[] = [
  { x: [2, 5, 5, 3], k: 3, out: 4, stride: 1 },
  { x: [1, 8, 8, 4], k: 3, out: 8, stride: 2 },
  { x: [2, 7, 6, 2], k: 3, out: 3, stride: 2 },
  { x: [3, 4, 4, 8], k: 1, out: 5, stride: 1 },
  { x: [1, 1, 1, 1], k: 3, out: 1, stride: 1 },
];
const ADDENDS: ConvAddend[] = ["none", "shift", "residual"];
const CASES = ADDENDS.flatMap((addend) => SHAPES.map((shape) => ({ ...shape, addend })));

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

eachBackend(
  "fused conv2d = conv2d + bias (+ shift or residual), values and gradients (≤ 1e-4)",
  async (backend) => {
    await useBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const x = tf.tensor4d(seeded(size(c.x), 300 + i), c.x);
      const filterShape = [c.k, c.k, c.x[3], c.out] as [number, number, number, number];
      const filter = tf.tensor4d(seeded(size(filterShape), 310 + i), filterShape);
      const bias = tf.tensor1d(seeded(c.out, 320 + i));
      const outShape = tf.tidy(() => tf.conv2d(x, filter, c.stride, "same").shape);
      const addend =
        c.addend === "residual"
          ? tf.tensor(seeded(size(outShape), 340 + i), outShape)
          : tf.tensor2d(seeded(c.x[0] * c.out, 340 + i), [c.x[0], c.out]);
      const plain = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor, s: tf.Tensor) => {
        const y = tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.stride, "same"), b);
        if (c.addend === "none") return y;
        return tf.add(y, c.addend === "shift" ? s.reshape([c.x[0], 1, 1, c.out]) : s);
      };
      const fused = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor, s: tf.Tensor) =>
        fusedConv2d(a, w, b, c.stride, c.addend === "none" ? {} : { [c.addend]: s });
      const weights = tf.tensor(seeded(size(outShape), 330 + i), outShape);
      const inputs = c.addend === "none" ? [x, filter, bias] : [x, filter, bias, addend];
      const loss =
        (f: typeof fused) =>
        (...xs: tf.Tensor[]) =>
          tf.sum(tf.mul(f(xs[0], xs[1], xs[2], xs[3] ?? addend), weights));
      const [ours, reference] = [fused, plain].map((f) => [
        tf.tidy(() => f(x, filter, bias, addend)),
        ...tf.grads(loss(f))(inputs),
      ]);
      await expectSameOutputs(ours, reference, [i], ["y", "dx", "dW", "db", `d ${c.addend}`]);
      const kernels = await countKernels(async () => tf.dispose(tf.grads(loss(fused))(inputs)));
      const forwardName = c.addend === "none" ? "FairdiffConv2D" : "FairdiffConv2DAdd";
      expect(kernels.byKernel.get(forwardName)).toBe(1);
      expect(kernels.byKernel.get("FairdiffConv2DGrad")).toBe(1);
      expect(kernels.byKernel.get("Conv2DBackpropInput")).toBeUndefined();
      if (backend === "webgpu") {
        // dx, then the filter's, the bias's (and the shift's) gradients in one dispatch.
        const backward = await countKernels(async () =>
          tf.dispose(
            tf
              .engine()
              .runKernel(
                "FairdiffConv2DGrad",
                { dy: weights, x, filter },
                { stride: c.stride, addend: c.addend },
              ) as tf.Tensor[],
          ),
        );
        expect(backward.dispatches).toBe(2);
      }
      tf.dispose([x, filter, bias, addend, weights, ...ours, ...reference]);
    }
    await useBackend("wasm");
  },
);

test("a filter, bias, shift or residual that does not fit, or a bad stride, is refused", async () => {
  await useBackend("cpu");
  const x = tf.zeros([1, 4, 4, 3]);
  const filter = tf.zeros([3, 3, 3, 4]);
  const bias = tf.zeros([4]);
  expect(() => fusedConv2d(x, tf.zeros([3, 3, 2, 4]), bias, 1)).toThrow(
    /x \[1,4,4,3\] does not fit a filter \[3,3,2,4\]/,
  );
  expect(() => fusedConv2d(x, filter, tf.zeros([3]), 1)).toThrow(
    /bias has shape \[3\], expected \[4\]/,
  );
  expect(() => fusedConv2d(x, filter, bias, 0)).toThrow(/stride must be a positive integer, got 0/);
  expect(() => fusedConv2d(x, filter, bias, 1, { shift: tf.zeros([2, 4]) })).toThrow(
    /shift has shape \[2,4\], expected \[1,4\]/,
  );
  expect(() => fusedConv2d(x, filter, bias, 2, { residual: tf.zeros([1, 4, 4, 4]) })).toThrow(
    /residual has shape \[1,4,4,4\], expected \[1,2,2,4\]/,
  );
  tf.dispose([x, filter, bias]);
  await useBackend("wasm");
});
