/**
 * Gradients flow through a whole sampling chain (needed by direct fine-tuning of the sampler,
 * Shen et al.): d(loss)/d(parameter) through 4 steps matches a central finite difference,
 * including DPM-Solver++'s kept multistep history and DDPM's injected noise.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { createScheduler, type SchedulerName } from "../../src/schedulers/createScheduler";
import { gaussianNoise } from "../../src/schedulers/gaussianNoise";
import { createRng } from "../../src/util/random";

beforeAll(async () => {
  await useBackend("cpu");
});

/** A toy "network": ε̂ = tanh(w·x), so the final sample is a smooth function of w. */
function sampleWith(
  name: SchedulerName,
  w: tf.Scalar,
  start: tf.Tensor,
  noises: tf.Tensor[],
): tf.Tensor {
  const scheduler = createScheduler(name, { eta: 0.5 });
  scheduler.setTimesteps(4);
  let x = start;
  scheduler.timesteps.forEach((t, i) => {
    x = scheduler.step(tf.tanh(tf.mul(x, w)), t, x, { noise: noises[i] }).prevSample;
  });
  scheduler.dispose();
  return x;
}

for (const name of ["ddpm", "ddim", "dpm-solver++"] as SchedulerName[])
  test(`${name}: chain gradient equals the finite difference`, () => {
    const rng = createRng(1);
    const start = gaussianNoise([6], rng);
    const noises = [0, 1, 2, 3].map(() => gaussianNoise([6], rng));
    const loss = (w: tf.Tensor) =>
      tf.sum(tf.square(sampleWith(name, w as tf.Scalar, start, noises))) as tf.Scalar;
    const w0 = 0.7;
    const grad = tf.tidy(() => tf.grad(loss)(tf.scalar(w0)).dataSync()[0]);
    const h = 1e-2;
    const numeric = tf.tidy(
      () =>
        (loss(tf.scalar(w0 + h)).dataSync()[0] - loss(tf.scalar(w0 - h)).dataSync()[0]) / (2 * h),
    );
    expect(Math.abs(grad - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    expect(Math.abs(grad)).toBeGreaterThan(1e-3);
  });
