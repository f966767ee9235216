/**
 * The fused attention kernel against autodiff through the composed tfjs ops it replaces (head
 * split, q·kᵀ, scale, key mask as a bias, softmax, ·v, head merge) on cpu, wasm and WebGPU, for self- and
 * cross-attention with and without a mask: output and the gradients of q, k and v within 1e-4;
 * one kernel forward and one backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fusedAttention } from "../../src/backend/fusedKernels/fusedAttention";
import { countKernels } from "../../bench/kernels";
import { eachBackend, expectSameOutputs, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

const CASES = [
  { batch: 2, queries: 5, keys: 5, heads: 2, headDim: 4, masked: false },
  { batch: 1, queries: 16, keys: 7, heads: 4, headDim: 8, masked: true },
  { batch: 3, queries: 4, keys: 6, heads: 1, headDim: 3, masked: true },
];

function composed(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, mask?: tf.Tensor) {
  const [batch, queries, width] = q.shape as [number, number, number];
  const keys = k.shape[1] as number;
  const d = width / heads;
  const split = (x: tf.Tensor, t: number) =>
    x.reshape([batch, t, heads, d]).transpose([0, 2, 1, 3]);
  let scores = tf.mul(tf.matMul(split(q, queries), split(k, keys), false, true), 1 / Math.sqrt(d));
  if (mask) scores = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9).reshape([batch, 1, 1, keys]));
  return tf
    .matMul(tf.softmax(scores), split(v, keys))
    .transpose([0, 2, 1, 3])
    .reshape([batch, queries, width]);
}

eachBackend(
  "fused attention = the composed ops, values and gradients (≤ 1e-4)",
  async (backend) => {
    await useBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const width = c.heads * c.headDim;
      const q = tf.tensor(seeded(c.batch * c.queries * width, 100 + i, 2), [
        c.batch,
        c.queries,
        width,
      ]);
      const k = tf.tensor(seeded(c.batch * c.keys * width, 110 + i, 2), [c.batch, c.keys, width]);
      const v = tf.tensor(seeded(c.batch * c.keys * width, 120 + i), [c.batch, c.keys, width]);
      // The last two keys of every row are padding.
      const maskValues = Float32Array.from({ length: c.batch * c.keys }, (_, j) =>
        j % c.keys < c.keys - 2 ? 1 : 0,
      );
      const mask = c.masked ? tf.tensor2d(maskValues, [c.batch, c.keys]) : undefined;
      const weights = tf.tensor(seeded(c.batch * c.queries * width, 130 + i), [
        c.batch,
        c.queries,
        width,
      ]);
      const scale = 1 / Math.sqrt(c.headDim);
      const [fused, reference] = [
        (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          fusedAttention(a, b, d, { heads: c.heads, scale }, mask),
        (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => composed(a, b, d, c.heads, mask),
      ].map((f) => [
        tf.tidy(() => f(q, k, v)),
        ...tf.grads((a, b, d) => tf.sum(tf.mul(f(a, b, d), weights)))([q, k, v]),
      ]);
      await expectSameOutputs(fused, reference, [i], ["y", "dq", "dk", "dv"]);
      const kernels = await countKernels(async () =>
        tf.dispose(
          tf.grads((a: tf.Tensor) =>
            tf.sum(fusedAttention(a, k, v, { heads: c.heads, scale }, mask)),
          )([q]),
        ),
      );
      expect(
        kernels.byKernel.get(c.masked ? "FairdiffFusedMaskedAttention" : "FairdiffFusedAttention"),
      ).toBe(1);
      expect(kernels.byKernel.get("FairdiffFusedAttentionGrad")).toBe(1);
      if (backend === "webgpu") {
        // Ours: one dispatch forward, two backward (composed: 9 and 20).
        const forward = await countKernels(async () =>
          tf.dispose(fusedAttention(q, k, v, { heads: c.heads, scale }, mask)),
        );
        expect(forward.dispatches).toBe(1);
        const backward = await countKernels(async () =>
          tf.dispose(
            tf
              .engine()
              .runKernel(
                "FairdiffFusedAttentionGrad",
                { q, k, v, ...(mask ? { keyMask: mask } : {}), dy: weights },
                { heads: c.heads, scale },
              ) as tf.Tensor[],
          ),
        );
        expect(backward.dispatches).toBe(2);
      }
      tf.dispose([q, k, v, weights, ...fused, ...reference]);
      mask?.dispose();
    }
    await useBackend("wasm");
  },
);

test("shapes that do not fit are refused, naming them", async () => {
  await useBackend("cpu");
  const q = tf.zeros([2, 3, 8]);
  const k = tf.zeros([2, 5, 8]);
  expect(() => fusedAttention(q, k, k, { heads: 3, scale: 1 })).toThrow(
    /width 8 does not split into 3 heads/,
  );
  expect(() => fusedAttention(q, tf.zeros([2, 5, 4]), k, { heads: 2, scale: 1 })).toThrow(
    /do not match q/,
  );
  expect(() => fusedAttention(q, k, k, { heads: 2, scale: 1 }, tf.zeros([2, 3]))).toThrow(
    /key mask \[2,3\] ≠ \[2, 5\]/,
  );
  tf.dispose([q, k]);
  await useBackend("wasm");
});
