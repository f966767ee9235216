/** fairdiff's AdamW with zero decay equals tfjs's Adam; its state round-trips exactly. */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { AdamW } from "../../src/parallel/adamW";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";

const options = { learningRate: 0.05, weightDecay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const target = [1, -2, 3, 0.5];

function lossOf(v: tf.Variable): tf.Scalar {
  return tf.sum(tf.square(tf.sub(v, tf.tensor1d(target)))) as tf.Scalar;
}

beforeAll(() => useBackend("cpu"));

test("matches tf.train.adam step for step", () => {
  const ours = tf.variable(tf.tensor1d([0, 0, 0, 0]));
  const theirs = tf.variable(tf.tensor1d([0, 0, 0, 0]));
  const adamW = new AdamW(options);
  const adam = tf.train.adam(options.learningRate, options.beta1, options.beta2, options.epsilon);
  for (let s = 0; s < 5; s++) {
    const { value, grads } = tf.variableGrads(() => lossOf(ours), [ours]);
    adamW.apply([ours], [grads[ours.name]], options.learningRate);
    tf.dispose([value, grads[ours.name]]);
    adam.minimize(() => lossOf(theirs), false, [theirs]);
  }
  const a = ours.dataSync();
  const b = theirs.dataSync();
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 5));
  expect(Math.abs(a[0])).toBeGreaterThan(0.1);
  adamW.dispose();
  adam.dispose();
  tf.dispose([ours, theirs]);
});

test("state round-trips and a step leaks no tensors", async () => {
  const v = tf.variable(tf.tensor1d([0, 0, 0, 0]));
  const adamW = new AdamW({ ...options, weightDecay: 0.01 });
  const step = () => {
    const { value, grads } = tf.variableGrads(() => lossOf(v), [v]);
    adamW.apply([v], [grads[v.name]], options.learningRate);
    tf.dispose([value, grads[v.name]]);
  };
  await expectNoTensorLeak(step, { warmup: 1, steps: 3 });
  const state = await adamW.state();
  expect(state.iterations).toBe(4);
  const copy = new AdamW({ ...options, weightDecay: 0.01 });
  copy.setState(state);
  expect(await copy.state()).toEqual(state);
  expect(() => copy.setState({ iterations: 1, slots: [state.slots[0]] })).toThrow(
    /1 first and 0 second/,
  );
  adamW.dispose();
  copy.dispose();
  v.dispose();
});
