/**
 * Closed-form checks: noising x₀ then denoising with the true noise (a perfect network) returns
 * x₀ for every scheduler and prediction type; DDIM η=0 is deterministic; no tensors leak.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { createScheduler, type SchedulerName } from "../../src/schedulers/createScheduler";
import { gaussianNoise } from "../../src/schedulers/gaussianNoise";
import type { PredictionType } from "../../src/schedulers/schedulerConfig";
import type { Scheduler } from "../../src/schedulers/scheduler";
import { createRng } from "../../src/util/random";
import { oracleOutput } from "./oracle";

beforeAll(async () => {
  await useBackend("cpu");
});

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Runs the whole reverse chain from pure noise at the first timestep with a perfect denoiser. */
function denoiseWithOracle(
  scheduler: Scheduler,
  original: tf.Tensor,
  steps: number,
  seed: number,
): tf.Tensor {
  const rng = createRng(seed);
  scheduler.setTimesteps(steps);
  let sample = tf.tidy(() =>
    scheduler.addNoise(original, gaussianNoise(original.shape, rng), scheduler.timesteps[0]),
  );
  for (const t of scheduler.timesteps) {
    const next = tf.tidy(() => {
      const output = oracleOutput(scheduler.schedule, original, sample, t);
      return scheduler.step(output, t, sample, { rng }).prevSample;
    });
    sample.dispose();
    sample = next;
  }
  return sample;
}

const schedulers: SchedulerName[] = ["ddpm", "ddim", "dpm-solver++"];
const predictions: PredictionType[] = ["epsilon", "v_prediction", "sample"];

describe("noising then exact denoising recovers x₀", () => {
  for (const name of schedulers)
    for (const predictionType of predictions)
      for (const steps of [1, 7, 50])
        test(`${name}, ${predictionType}, ${steps} steps`, () => {
          const scheduler = createScheduler(name, {
            predictionType,
            eta: name === "ddim" ? 0.7 : 0,
          });
          const original = tf.tidy(() => tf.tanh(gaussianNoise([2, 4, 4, 3], createRng(1))));
          const before = tf.memory().numTensors;
          const recovered = denoiseWithOracle(scheduler, original, steps, 11);
          expect(maxAbs(recovered, original)).toBeLessThan(2e-4);
          recovered.dispose();
          scheduler.dispose();
          expect(tf.memory().numTensors).toBe(before);
          original.dispose();
        });

  test("per-sample timesteps in addNoise match one-at-a-time noising", () => {
    const scheduler = createScheduler("ddpm");
    const rng = createRng(3);
    const x0 = gaussianNoise([3, 2, 2, 1], rng);
    const noise = gaussianNoise([3, 2, 2, 1], rng);
    const batched = scheduler.addNoise(x0, noise, [0, 500, 999]);
    [0, 500, 999].forEach((t, i) => {
      const one = scheduler.addNoise(x0.slice(i, 1), noise.slice(i, 1), t);
      expect(maxAbs(batched.slice(i, 1), one)).toBeLessThan(1e-6);
    });
    expect(() => scheduler.addNoise(x0, noise, [1, 2])).toThrow(/2 timesteps for a batch of 3/);
  });

  test("v-prediction target converts back to ε and x₀", () => {
    const scheduler = createScheduler("ddim", { predictionType: "v_prediction" });
    const rng = createRng(4);
    const x0 = gaussianNoise([4, 8], rng);
    const eps = gaussianNoise([4, 8], rng);
    const t = 321;
    const xt = scheduler.addNoise(x0, eps, t);
    const v = scheduler.schedule.trainingTarget(x0, eps, t);
    const { original, epsilon } = scheduler.schedule.denoise(v, xt, scheduler.schedule.alphaBar(t));
    expect(maxAbs(original, x0)).toBeLessThan(1e-5);
    expect(maxAbs(epsilon, eps)).toBeLessThan(1e-5);
  });
});

describe("determinism and randomness", () => {
  test("DDIM η=0 needs no rng and gives identical results", () => {
    const scheduler = createScheduler("ddim", { eta: 0 });
    scheduler.setTimesteps(5);
    const x = gaussianNoise([2, 3], createRng(5));
    const out = gaussianNoise([2, 3], createRng(6));
    const a = scheduler.step(out, scheduler.timesteps[1], x).prevSample;
    const b = scheduler.step(out, scheduler.timesteps[1], x).prevSample;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  });

  test("stochastic steps demand a seeded rng and repeat with the same seed", () => {
    for (const scheduler of [createScheduler("ddpm"), createScheduler("ddim", { eta: 1 })]) {
      scheduler.setTimesteps(5);
      const x = gaussianNoise([2, 3], createRng(5));
      const out = gaussianNoise([2, 3], createRng(6));
      const t = scheduler.timesteps[0];
      expect(() => scheduler.step(out, t, x)).toThrow(/rng/);
      const a = scheduler.step(out, t, x, { rng: createRng(9) }).prevSample;
      const b = scheduler.step(out, t, x, { rng: createRng(9) }).prevSample;
      const c = scheduler.step(out, t, x, { rng: createRng(10) }).prevSample;
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      expect(maxAbs(a, c)).toBeGreaterThan(1e-3);
    }
  });

  test("steps must use the scheduler's timesteps", () => {
    const ddim = createScheduler("ddim");
    const x = tf.zeros([1, 2]);
    expect(() => ddim.step(x, 10, x)).toThrow(/setTimesteps/);
    ddim.setTimesteps(10);
    expect(() => ddim.step(x, 10, x)).toThrow(/not one of/);
    const dpm = createScheduler("dpm-solver++");
    dpm.setTimesteps(10);
    expect(() => dpm.step(x, dpm.timesteps[3], x)).toThrow(/in order/);
  });
});
