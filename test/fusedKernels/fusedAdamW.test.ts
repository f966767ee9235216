/**
 * The multi-tensor AdamW kernel against the unfused composition of tfjs ops it replaces (the
 * definition), on cpu, wasm and WebGPU, over a grid of shapes, steps, weight decays and gradient
 * scales (clipping): new parameters and both moments within 1e-4, in one kernel for any number
 * of variables.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  fusedAdamW,
  type AdamWStep,
  type AdamWStepAttrs,
} from "../../src/backend/fusedKernels/fusedAdamW";
import { countKernels } from "../../bench/kernels";
import { eachBackend, maxAbsDiff, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

const SHAPES = [[1], [7], [3, 5], [2, 3, 4, 5], [64, 33], [3, 3, 8, 16]];

/** The update as the separate tfjs ops adamW.ts ran before the fused kernel. */
function unfused(p: tf.Tensor, raw: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWStepAttrs) {
  return tf.tidy(() => {
    const g = tf.mul(raw, a.gradientScale);
    const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
    const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
    const update = tf.div(
      tf.div(m2, a.correction1),
      tf.add(tf.sqrt(tf.div(v2, a.correction2)), a.epsilon),
    );
    const decayed = a.weightDecay > 0 ? tf.mul(p, 1 - a.learningRate * a.weightDecay) : p;
    return [tf.sub(decayed, tf.mul(update, a.learningRate)), m2, v2];
  });
}

const settings = (step: number, weightDecay: number, gradientScale = 1): AdamWStepAttrs => ({
  learningRate: 3e-3,
  weightDecay,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  correction1: 1 - Math.pow(0.9, step),
  correction2: 1 - Math.pow(0.999, step),
  gradientScale,
});

eachBackend("fused AdamW = the unfused update (≤ 1e-4), one kernel", async (backend) => {
  await useBackend(backend);
  for (const [step, weightDecay, gradientScale] of [
    [1, 0, 1],
    [10, 1e-2, 1],
    [10, 1e-2, 0.37],
  ]) {
    const make = (seed: number, scale: number, positive = false) =>
      SHAPES.map((shape, i) => {
        const values = seeded(
          shape.reduce((n, d) => n * d, 1),
          seed * 100 + i,
          scale,
        );
        return tf.tensor(positive ? values.map(Math.abs) : values, shape);
      });
    const p = make(1, 1);
    const g = make(2, 0.1);
    const m = make(3, 0.05);
    const v = make(4, 0.01, true);
    const attrs = settings(step, weightDecay, gradientScale);
    let fused: AdamWStep = { params: [], m: [], v: [] };
    const kernels = await countKernels(async () => {
      fused = fusedAdamW(p, g, m, v, attrs);
    });
    expect(kernels.total).toBe(1);
    if (backend === "webgpu") {
      // All three outputs and the count at once, for as many variables as the device binds.
      const limit = (tf.backend() as unknown as { device: { limits: Record<string, number> } })
        .device.limits.maxStorageBuffersPerShaderStage;
      const perDispatch = Math.floor((limit - 1) / 7);
      expect(kernels.dispatches).toBe(Math.ceil(SHAPES.length / perDispatch));
    }
    for (let i = 0; i < SHAPES.length; i++) {
      const [p2, m2, v2] = unfused(p[i], g[i], m[i], v[i], attrs);
      for (const [ours, reference] of [
        [fused.params[i], p2],
        [fused.m[i], m2],
        [fused.v[i], v2],
      ]) {
        expect(ours.shape).toEqual(SHAPES[i]);
        expect(maxAbsDiff(await ours.data(), await reference.data())).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([p2, m2, v2]);
    }
    // Every backend counts non-finite new parameters as it writes them (none here).
    expect(fused.nonFinite).toBeDefined();
    expect(Array.from(await fused.nonFinite!.data())).toEqual([0]);
    tf.dispose([...p, ...g, ...m, ...v, ...fused.params, ...fused.m, ...fused.v]);
    fused.nonFinite?.dispose();
  }
  await useBackend("wasm");
});

eachBackend(
  "new parameters that are NaN or ±Inf are counted, in every variable",
  async (backend) => {
    await useBackend(backend);
    const shapes = [[5], [2, 3], [300]];
    const p = shapes.map((shape, i) =>
      tf.tensor(seeded(shape[0] * (shape[1] ?? 1), 10 + i), shape),
    );
    const m = p.map((t) => tf.zerosLike(t));
    const v = p.map((t) => tf.zerosLike(t));
    const gradients = p.map((t, i) => seeded(t.size, 20 + i, 0.1));
    gradients[0][1] = NaN;
    gradients[0][4] = NaN;
    gradients[2][299] = Infinity; // m and v Inf: the update Inf / Inf is NaN
    const g = gradients.map((values, i) => tf.tensor(values, shapes[i]));
    const fused = fusedAdamW(p, g, m, v, settings(1, 1e-2));
    expect(Array.from(await fused.nonFinite!.data())).toEqual([3]);
    tf.dispose([...p, ...m, ...v, ...g, ...fused.params, ...fused.m, ...fused.v, fused.nonFinite!]);
    await useBackend("wasm");
  },
);

test("mismatched lists are refused with the sizes named", async () => {
  await useBackend("cpu");
  const a = tf.zeros([2]);
  const b = tf.zeros([3]);
  expect(() => fusedAdamW([a], [], [a], [a], settings(1, 0))).toThrow(/1 params but 0 grads/);
  expect(() => fusedAdamW([a], [b], [a], [a], settings(1, 0))).toThrow(
    /grad 0 has shape \[3\], param \[2\]/,
  );
  tf.dispose([a, b]);
});
