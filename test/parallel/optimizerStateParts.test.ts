/** Optimizer state split by replicas' parts and joined back: one replica's layout, exactly. */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { AdamW } from "../../src/parallel/adamW";
import { joinStateParts, statePart } from "../../src/parallel/optimizerStateParts";
import { updatePartition } from "../../src/parallel/updatePartition";

beforeAll(async () => {
  await useBackend("wasm");
});

test("AdamW's state cut into parts and joined is the whole, slot for slot", async () => {
  const shapes = [[4], [3, 2], [5], [2, 2, 2]];
  const variables = shapes.map((shape, i) => tf.variable(tf.fill(shape, i + 1)));
  const adamW = new AdamW({
    learningRate: 1e-2,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  const gradients = shapes.map((shape, i) => tf.fill(shape, 0.5 - i));
  adamW.apply(variables, gradients, 1e-2);
  const whole = await adamW.state();
  expect(whole.slots.map((s) => s.name)).toEqual([
    ...["0/m", "1/m", "2/m", "3/m"],
    ...["0/v", "1/v", "2/v", "3/v"],
  ]);
  const ranges = updatePartition(
    variables.map((v) => v.size),
    3,
  );
  const parts = ranges.map((r) => ({
    first: r.firstVariable,
    state: statePart(whole, r.firstVariable, r.endVariable),
  }));
  // Each part is numbered from 0, as the replica that keeps it holds it.
  expect(parts[1].state.slots[0].name).toBe("0/m");
  expect(joinStateParts(parts)).toEqual(whole);
  // A part restores into an optimizer of that part's variables alone.
  const partOptimizer = new AdamW({
    learningRate: 1e-2,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  partOptimizer.setState(parts[2].state);
  expect(await partOptimizer.state()).toEqual(parts[2].state);
  expect(() =>
    joinStateParts([parts[0], { ...parts[1], state: { ...parts[1].state, iterations: 9 } }]),
  ).toThrow(/disagree on the step: 1, 9/);
  tf.dispose([...variables, ...gradients]);
  adamW.dispose();
  partOptimizer.dispose();
});
