/**
 * The generation contract (as diffusers' pipeline tests): over every scheduler, deterministic and
 * stochastic, image i of a seeded run is the same whatever the batch size it was drawn in, and
 * whatever image it starts from (an extended audit draws the same images).
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages, type GenerateOptions } from "../../src/pipeline/textToImage";
import type { SchedulerName } from "../../src/schedulers/createScheduler";
import { tinyExamples, tinyModel } from "./tinyModel";

let model: LatentDiffusionModel;
const prompts = tinyExamples(3).map((e) => e.prompt);

beforeAll(async () => {
  await useBackend("wasm");
  model = tinyModel(tinyExamples());
});
afterAll(() => model.dispose());

async function images(options: GenerateOptions, list = prompts): Promise<Float32Array[]> {
  const batch = await generateImages(model, list, options);
  const values = (await batch.data()) as Float32Array;
  const per = values.length / batch.shape[0];
  batch.dispose();
  return Array.from({ length: list.length }, (_, i) => values.slice(i * per, (i + 1) * per));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const CASES: [SchedulerName, number | undefined][] = [
  ["ddim", 0],
  ["ddim", 1],
  ["ddpm", undefined],
  ["dpm-solver++", undefined],
];

describe.each(CASES)("%s (η %s)", (scheduler, eta) => {
  const base = { seed: 11, steps: 4, guidanceScale: 2, scheduler, eta };

  test("image i does not depend on the batch size", async () => {
    const before = tf.memory().numTensors;
    const whole = await images({ ...base, batchSize: 3 });
    for (const batchSize of [1, 2]) {
      const split = await images({ ...base, batchSize });
      split.forEach((image, i) => expect(maxDifference(image, whole[i])).toBeLessThan(1e-5));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("image i does not depend on where the run starts (firstIndex)", async () => {
    const whole = await images({ ...base, batchSize: 3 });
    const tail = await images({ ...base, firstIndex: 1 }, prompts.slice(1));
    tail.forEach((image, i) => expect(maxDifference(image, whole[i + 1])).toBeLessThan(1e-5));
  });

  test("another seed gives other images", async () => {
    const a = await images({ ...base, batchSize: 3 });
    const b = await images({ ...base, seed: 12, batchSize: 3 });
    expect(maxDifference(a[0], b[0])).toBeGreaterThan(1e-3);
  });
});
