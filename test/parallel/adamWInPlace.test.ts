/**
 * AdamW in place (wasm with the native kernels): the same floats as the fused kernel, the same
 * refusal of a non-finite update (nothing written), no tensors leaked, and the kernel's copy
 * where another tensor shares a weight's buffer.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { adamWInPlace } from "../../src/backend/nativeKernels/nativeAdamWInPlace";
import { AdamW } from "../../src/parallel/adamW";
import { NonFiniteStepError } from "../../src/parallel/nonFiniteStep";
import { seededValues } from "../helpers/backends";
import { nativeTest } from "../helpers/nativeKernels";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";

const OPTIONS = { learningRate: 3e-3, weightDecay: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
// Shapes on and off vector widths, one large enough to be split across the pool.
const SHAPES = [[7], [3, 5], [64, 33], [20000]];

const variables = (seed: number) =>
  SHAPES.map((shape, i) => {
    const size = shape.reduce((n, d) => n * d, 1);
    return tf.variable(tf.tensor(seededValues(size, seed + i), shape));
  });
const gradientsAt = (step: number) =>
  SHAPES.map((shape, i) => {
    const size = shape.reduce((n, d) => n * d, 1);
    return tf.tensor(
      seededValues(size, 100 * step + i).map((v) => v * 0.1),
      shape,
    );
  });

beforeAll(() => useBackend("wasm"));

nativeTest("gives the fused kernel's floats, step for step", async () => {
  const inPlace = variables(1);
  const kernel = variables(1);
  const [a, b] = [new AdamW(OPTIONS), new AdamW(OPTIONS)];
  const attrs = { ...OPTIONS, correction1: 0.1, correction2: 0.001, gradientScale: 1 };
  for (let step = 1; step <= 3; step++) {
    const grads = gradientsAt(step);
    const scale = step === 2 ? 0.5 : 1;
    await a.applyChecked(inPlace, grads, OPTIONS.learningRate, scale);
    // A reshape shares each buffer (tensors are immutable): the fused kernel's copy runs instead.
    const clones = kernel.map((v) => v.reshape(v.shape));
    const moments = kernel.map((v) => tf.zerosLike(v));
    const others = kernel.map((v) => tf.zerosLike(v));
    expect(adamWInPlace(kernel, grads, moments, others, attrs)).toBeUndefined();
    // The same tensor as both moments: never in place either.
    expect(adamWInPlace(others, grads, moments, moments, attrs)).toBeUndefined();
    const kept = await clones[0].data();
    await b.applyChecked(kernel, grads, OPTIONS.learningRate, scale);
    expect(Array.from(await clones[0].data())).toEqual(Array.from(kept));
    tf.dispose([...grads, ...clones, ...moments, ...others]);
  }
  for (let i = 0; i < SHAPES.length; i++) {
    expect(Array.from(await inPlace[i].data())).toEqual(Array.from(await kernel[i].data()));
  }
  expect(await a.state()).toEqual(await b.state());
  // One tensor as both weight and moment, or as a weight and its gradient: never in place.
  expect(adamWInPlace(inPlace, inPlace, inPlace, inPlace, attrs)).toBeUndefined();
  tf.dispose([...inPlace, ...kernel]);
  a.dispose();
  b.dispose();
});

nativeTest("refuses an overflowing update without writing, and leaks nothing", async () => {
  const params = variables(2);
  const adamW = new AdamW(OPTIONS);
  const grads = gradientsAt(1);
  await adamW.applyChecked(params, grads, OPTIONS.learningRate);
  const before = await Promise.all(params.map((p) => p.data()));
  const stateBefore = await adamW.state();
  await expect(adamW.applyChecked(params, grads, 1e39)).rejects.toThrow(NonFiniteStepError);
  const after = await Promise.all(params.map((p) => p.data()));
  after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
  expect(await adamW.state()).toEqual(stateBefore);
  await expectNoTensorLeak(() => adamW.applyChecked(params, grads, OPTIONS.learningRate));
  tf.dispose([...params, ...grads]);
  adamW.dispose();
});
