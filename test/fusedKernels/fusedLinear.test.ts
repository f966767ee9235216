/**
 * The fused dense layer against autodiff through tf.matMul + bias on cpu, wasm and WebGPU over a
 * grid of shapes (rank 2 to 4 inputs): output and the gradients of x, W and b within 1e-4; one
 * kernel forward, one backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fusedLinear } from "../../src/backend/fusedKernels/fusedLinear";
import { countKernels } from "../../bench/kernels";
import { eachBackend, expectSameOutputs, maxAbsDiff, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

const CASES: { x: number[]; out: number }[] = [
  { x: [5, 3], out: 4 },
  { x: [2, 7, 16], out: 8 },
  { x: [2, 3, 4, 6], out: 5 },
  { x: [1, 1], out: 1 },
  { x: [64, 32], out: 48 },
];

const composed = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  tf.add(tf.matMul(x.reshape([-1, w.shape[0]]), w), b).reshape([...x.shape.slice(0, -1), -1]);

eachBackend(
  "fused linear without a bias = matMul, values and gradients (≤ 1e-4)",
  async (backend) => {
    await useBackend(backend);
    const x = tf.tensor(seeded(2 * 5 * 6, 91), [2, 5, 6]);
    const w = tf.tensor2d(seeded(6 * 3, 92), [6, 3]);
    const weights = tf.tensor(seeded(2 * 5 * 3, 93), [2, 5, 3]);
    const plain = (a: tf.Tensor, v: tf.Tensor) =>
      tf.matMul(a.reshape([-1, 6]), v).reshape([2, 5, 3]);
    const [fused, reference] = [(a: tf.Tensor, v: tf.Tensor) => fusedLinear(a, v), plain].map(
      (f) => [
        tf.tidy(() => f(x, w)),
        ...tf.grads((a, v) => tf.sum(tf.mul(f(a, v), weights)))([x, w]),
      ],
    );
    for (let k = 0; k < fused.length; k++) {
      expect(fused[k].shape).toEqual(reference[k].shape);
      expect(maxAbsDiff(await fused[k].data(), await reference[k].data())).toBeLessThanOrEqual(
        1e-4,
      );
    }
    tf.dispose([x, w, weights, ...fused, ...reference]);
    await useBackend("wasm");
  },
);

eachBackend("fused linear = matMul + bias, values and gradients (≤ 1e-4)", async (backend) => {
  await useBackend(backend);
  for (const [i, c] of CASES.entries()) {
    const inFeatures = c.x[c.x.length - 1];
    const x = tf.tensor(
      seeded(
        c.x.reduce((n, d) => n * d, 1),
        50 + i,
      ),
      c.x,
    );
    const w = tf.tensor2d(seeded(inFeatures * c.out, 60 + i), [inFeatures, c.out]);
    const b = tf.tensor1d(seeded(c.out, 70 + i));
    const outShape = [...c.x.slice(0, -1), c.out];
    const weights = tf.tensor(
      seeded(
        outShape.reduce((n, d) => n * d, 1),
        80 + i,
      ),
      outShape,
    );
    const [fused, reference] = [fusedLinear, composed].map((f) => {
      const y = tf.tidy(() => f(x, w, b));
      const grads = tf.grads((a, v, d) => tf.sum(tf.mul(f(a, v, d), weights)))([x, w, b]);
      return [y, ...grads];
    });
    await expectSameOutputs(fused, reference, [i]);
    const variable = tf.variable(w);
    let forwardAndBackward = 0;
    const kernels = await countKernels(async () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(fusedLinear(x, variable, b)) as tf.Scalar,
        [variable],
      );
      forwardAndBackward = Object.keys(grads).length;
      tf.dispose([value, ...Object.values(grads)]);
    });
    variable.dispose();
    expect(forwardAndBackward).toBe(1);
    expect(kernels.byKernel.get("FairdiffFusedLinear")).toBe(1);
    expect(kernels.byKernel.get("FairdiffFusedLinearGrad")).toBe(1);
    if (backend === "webgpu") {
      // dx, then dW and db together (composed: three products).
      const backward = await countKernels(async () =>
        tf.dispose(
          tf
            .engine()
            .runKernel(
              "FairdiffFusedLinearGrad",
              { dy: weights, x, weight: w },
              { residual: false },
            ) as tf.Tensor[],
        ),
      );
      expect(backward.dispatches).toBe(2);
    }
    tf.dispose([x, w, b, weights, ...fused, ...reference]);
  }
  await useBackend("wasm");
});

eachBackend(
  "fused linear + residual = matMul + bias + residual, with its gradient",
  async (backend) => {
    await useBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const inFeatures = c.x[c.x.length - 1];
      const outShape = [...c.x.slice(0, -1), c.out];
      const count = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
      const x = tf.tensor(seeded(count(c.x), 150 + i), c.x);
      const w = tf.tensor2d(seeded(inFeatures * c.out, 160 + i), [inFeatures, c.out]);
      const b = tf.tensor1d(seeded(c.out, 170 + i));
      const r = tf.tensor(seeded(count(outShape), 175 + i), outShape);
      const weights = tf.tensor(seeded(count(outShape), 180 + i), outShape);
      const withResidual = [
        (a: tf.Tensor, v: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => fusedLinear(a, v, d, e),
        (a: tf.Tensor, v: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => tf.add(composed(a, v, d), e),
      ];
      const [fused, reference] = withResidual.map((f) => [
        tf.tidy(() => f(x, w, b, r)),
        ...tf.grads((a, v, d, e) => tf.sum(tf.mul(f(a, v, d, e), weights)))([x, w, b, r]),
      ]);
      await expectSameOutputs(fused, reference, [i]);
      const kernels = await countKernels(async () =>
        tf.dispose(tf.grads((a, e) => tf.sum(fusedLinear(a, w, b, e)))([x, r])),
      );
      expect(kernels.byKernel.get("FairdiffFusedLinearResidual")).toBe(1);
      expect(kernels.byKernel.get("FairdiffFusedLinearGrad")).toBe(1);
      expect(kernels.byKernel.get("Add")).toBeUndefined();
      if (backend === "webgpu") {
        // One dispatch for product, bias and residual, with a bias and without.
        for (const bias of [b, undefined]) {
          let y: tf.Tensor | undefined;
          const forward = await countKernels(async () => {
            y = fusedLinear(x, w, bias, r);
          });
          expect(forward.dispatches).toBe(1);
          const expected = tf.tidy(() => tf.add(composed(x, w, bias ?? tf.zerosLike(b)), r));
          expect(maxAbsDiff(await y!.data(), await expected.data())).toBeLessThanOrEqual(1e-4);
          tf.dispose([y!, expected]);
        }
      }
      tf.dispose([x, w, b, r, weights, ...fused, ...reference]);
    }
    await useBackend("wasm");
  },
);

test("shapes that do not multiply are refused, naming them", async () => {
  await useBackend("cpu");
  const x = tf.zeros([2, 3]);
  expect(() => fusedLinear(x, tf.zeros([4, 2]), tf.zeros([2]))).toThrow(
    /x \[2,3\] does not multiply a weight \[4,2\]/,
  );
  expect(() => fusedLinear(x, tf.zeros([3, 2]), tf.zeros([3]))).toThrow(
    /bias has shape \[3\], expected \[2\]/,
  );
  expect(() => fusedLinear(x, tf.zeros([3, 2]), tf.zeros([2]), tf.zeros([2, 3]))).toThrow(
    /residual has shape \[2,3\], expected \[2,2\]/,
  );
  x.dispose();
  await useBackend("wasm");
});
