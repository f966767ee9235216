/**
 * The one clipped update (clippedUpdate.ts) that the trainer training alone and every method's
 * step apply: the norm it reports, the clip factor inside the optimizer's update, and the
 * refusals before anything changes — on the cpu and wasm backends.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { applyClippedGradients, clipFactor } from "../../src/parallel/clippedUpdate";
import { NonFiniteStepError } from "../../src/parallel/nonFiniteStep";
import { buildOptimizer } from "../../src/parallel/optimizerSpec";

describe("clipFactor", () => {
  it("scales a gradient above the clip norm down to it and leaves others alone", () => {
    expect(clipFactor(5, 1)).toBeCloseTo(0.2, 12);
    expect(clipFactor(0.5, 1)).toBe(1);
    expect(clipFactor(5)).toBe(1);
  });
});

describe.each(["cpu", "wasm"] as const)("applyClippedGradients [%s]", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  // Two variables whose gradient has global norm 5 (3, 4 in one, 0 in the other).
  const setUp = () => ({
    variables: [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.tensor2d([[1], [1]]))],
    gradients: [tf.tensor1d([3, 4]), tf.tensor2d([[0], [0]])],
  });

  it("reports the loss and the norm before clipping, and applies the clipped gradient", async () => {
    const { variables, gradients } = setUp();
    const before = tf.memory().numTensors;
    const sgd = buildOptimizer({ name: "sgd", learningRate: 0.5 });
    const loss = tf.scalar(2.5);
    const outcome = await applyClippedGradients(variables, gradients, sgd, {
      learningRate: 0.5,
      clipNorm: 1,
      loss,
    });
    expect(outcome.loss).toBeCloseTo(2.5, 6);
    expect(outcome.gradientNorm).toBeCloseTo(5, 5);
    // w − lr · (g · 1/5): (1, 2) − 0.5 · (0.6, 0.8).
    const updated = Array.from(await variables[0].data());
    expect(updated[0]).toBeCloseTo(0.7, 5);
    expect(updated[1]).toBeCloseTo(1.6, 5);
    expect(Array.from(await variables[1].data())).toEqual([1, 1]);
    expect(tf.memory().numTensors).toBe(before + 1); // only the loss scalar made here
    tf.dispose([loss, ...variables, ...gradients]);
  });

  it("applies the gradient unscaled under the clip norm, with no loss given", async () => {
    const { variables, gradients } = setUp();
    const sgd = buildOptimizer({ name: "sgd", learningRate: 0.1 });
    const outcome = await applyClippedGradients(variables, gradients, sgd, {
      learningRate: 0.1,
      clipNorm: 10,
    });
    expect(Number.isNaN(outcome.loss)).toBe(true);
    expect(outcome.gradientNorm).toBeCloseTo(5, 5);
    const updated = Array.from(await variables[0].data());
    expect(updated[0]).toBeCloseTo(0.7, 5);
    expect(updated[1]).toBeCloseTo(1.6, 5);
    tf.dispose([...variables, ...gradients]);
  });

  it("refuses a non-finite loss or gradient before any weight changes", async () => {
    const sgd = buildOptimizer({ name: "sgd", learningRate: 0.1 });
    for (const [loss, gradient, quantity] of [
      [NaN, [3, 4], "loss"],
      [1, [3, Infinity], "gradient norm"],
      [1, [NaN, 4], "gradient norm"],
    ] as const) {
      const variables = [tf.variable(tf.tensor1d([1, 2]))];
      const gradients = [tf.tensor1d([...gradient])];
      const before = tf.memory().numTensors;
      const refusal = applyClippedGradients(variables, gradients, sgd, {
        learningRate: 0.1,
        clipNorm: 1,
        loss,
      });
      await expect(refusal).rejects.toThrow(NonFiniteStepError);
      await expect(refusal).rejects.toMatchObject({ quantity });
      expect(Array.from(await variables[0].data())).toEqual([1, 2]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...variables, ...gradients]);
    }
  });
});
