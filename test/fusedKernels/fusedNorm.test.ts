/**
 * The fused normalisation kernels (GroupNorm over NHWC and LayerNorm over the last axis, with and
 * without SiLU) against autodiff through the plain tfjs composition, on cpu, wasm and WebGPU, over
 * a grid of shapes: outputs and the gradients of x, γ and β within 1e-4; one forward kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { NormAttrs } from "../../src/backend/fusedKernels/fusedNorm";
import { fusedNorm } from "../../src/backend/fusedKernels/fusedNormOp";
import { countKernels } from "../../bench/kernels";
import { eachBackend, expectSameOutputs, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

interface Case {
  shape: number[];
  attrs: NormAttrs;
}

const CASES: Case[] = [
  { shape: [2, 4, 4, 8], attrs: { groups: 4, epsilon: 1e-5, silu: false, batchDims: 1 } },
  { shape: [2, 4, 4, 8], attrs: { groups: 2, epsilon: 1e-5, silu: true, batchDims: 1 } },
  { shape: [1, 3, 5, 6], attrs: { groups: 1, epsilon: 1e-5, silu: true, batchDims: 1 } },
  { shape: [3, 2, 2, 16], attrs: { groups: 8, epsilon: 1e-6, silu: false, batchDims: 1 } },
  { shape: [5, 12], attrs: { groups: 1, epsilon: 1e-5, silu: false, batchDims: 1 } },
  { shape: [2, 7, 10], attrs: { groups: 1, epsilon: 1e-5, silu: false, batchDims: 2 } },
  // Groups and channels wider than a WebGPU workgroup (64): each invocation takes several.
  { shape: [2, 6, 6, 160], attrs: { groups: 2, epsilon: 1e-5, silu: true, batchDims: 1 } },
];

/** The definition, as separate tfjs ops (autodiff gives its gradient). */
function composed(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, c: Case): tf.Tensor {
  const { groups, epsilon, silu, batchDims } = c.attrs;
  const shape = x.shape;
  const rows = shape.slice(0, batchDims).reduce((n, d) => n * d, 1);
  const channels = shape[shape.length - 1];
  const grouped = x.reshape([rows, -1, groups, channels / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const xHat = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, epsilon))).reshape(shape);
  const a = tf.add(tf.mul(xHat, gamma), beta);
  return silu ? tf.mul(a, tf.sigmoid(a)) : a;
}

eachBackend("fused norm = the composed ops, values and gradients (≤ 1e-4)", async (backend) => {
  await useBackend(backend);
  for (const [i, c] of CASES.entries()) {
    const size = c.shape.reduce((n, d) => n * d, 1);
    const channels = c.shape[c.shape.length - 1];
    const x = tf.tensor(seeded(size, 10 + i, 2), c.shape);
    const gamma = tf.tensor1d(seeded(channels, 20 + i).map((v) => 1 + v));
    const beta = tf.tensor1d(seeded(channels, 30 + i, 0.5));
    const weights = tf.tensor(seeded(size, 40 + i), c.shape);
    const results = [
      (xs: tf.Tensor[]) => fusedNorm(xs[0], xs[1], xs[2], c.attrs),
      (xs: tf.Tensor[]) => composed(xs[0], xs[1], xs[2], c),
    ].map((f) => {
      const y = tf.tidy(() => f([x, gamma, beta]));
      const grads = tf.grads((a, b, d) => tf.sum(tf.mul(f([a, b, d]), weights)))([x, gamma, beta]);
      return [y, ...grads];
    });
    const [fused, reference] = results;
    await expectSameOutputs(fused, reference, [i], ["y", "dx", "dγ", "dβ"]);
    const kernels = await countKernels(async () => tf.dispose(fusedNorm(x, gamma, beta, c.attrs)));
    expect(kernels.total).toBe(1);
    if (backend === "webgpu") {
      // A workgroup per (row, group): one dispatch forward, two backward (dx and the rows'
      // shares of dγ, dβ; then their sums).
      expect(kernels.dispatches).toBe(1);
      const backward = await countKernels(async () =>
        tf.dispose(
          tf
            .engine()
            .runKernel(
              "FairdiffFusedNormGrad",
              { dy: weights, x, gamma, beta },
              c.attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[],
        ),
      );
      expect(backward.dispatches).toBe(2);
    }
    tf.dispose([x, gamma, beta, weights, ...fused, ...reference]);
  }
  await useBackend("wasm");
});

test("bad groups, batch dims or parameter shapes are refused, naming the values", async () => {
  await useBackend("cpu");
  const x = tf.zeros([1, 2, 2, 6]);
  const p = tf.ones([6]);
  const attrs = { groups: 4, epsilon: 1e-5, silu: false, batchDims: 1 };
  expect(() => fusedNorm(x, p, p, attrs)).toThrow(/6 channels do not split into 4 groups/);
  expect(() => fusedNorm(x, p, p, { ...attrs, groups: 2, batchDims: 4 })).toThrow(
    /batchDims 4 does not fit shape \[1,2,2,6\]/,
  );
  expect(() => fusedNorm(x, tf.ones([3]), p, { ...attrs, groups: 2 })).toThrow(
    /gamma has shape \[3\], expected \[6\]/,
  );
  tf.dispose([x, p]);
  await useBackend("wasm");
});
