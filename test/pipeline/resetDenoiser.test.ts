/**
 * resetDenoiser: the UNet becomes exactly a freshly initialised one for the seed, the trained
 * autoencoder and text encoder are untouched, and a from-scratch Method 3 run on the reset model
 * learns (its denoising loss falls from the fresh UNet's).
 */
import { weightsSync } from "../helpers/weights";
import { useBackend } from "../../src/backend";
import { defineAttribute } from "../../src/data/subgroups";
import { fairBayesianPerturbation } from "../../src/methods/fairBayesianPerturbation";
import { groupDenoisingLoss } from "../../src/methods/groupDenoisingLoss";
import { labelledExamples } from "../../src/methods/labelledExamples";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { resetDenoiser } from "../../src/pipeline/resetDenoiser";
import { tinyModel } from "./tinyModel";

beforeAll(() => useBackend("wasm"));

const cohort = createSyntheticCohort({ cohort: "cxr", size: 24, seed: 1, imageSize: 16 });
const examples = labelledExamples(cohort.records.map((_, i) => cohort.sampleAt(i)));
const sex = defineAttribute("sex", ["Female", "Male"]);

function maxDifference(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const name of Object.keys(a)) {
    for (let i = 0; i < a[name].length; i++) {
      worst = Math.max(worst, Math.abs(a[name][i] - b[name][i]));
    }
  }
  return worst;
}

test("the UNet is re-initialised from the seed; autoencoder and text encoder are kept", async () => {
  const model = tinyModel(examples, 3);
  const other = tinyModel(examples, 4);
  const autoencoder = weightsSync(model.autoencoder);
  const text = weightsSync(model.textEncoder);
  const trainedUnet = weightsSync(model.unet);

  await resetDenoiser(model, 11);
  await resetDenoiser(other, 11);
  const reset = weightsSync(model.unet);
  expect(maxDifference(reset, weightsSync(other.unet))).toBe(0);
  expect(maxDifference(reset, trainedUnet)).toBeGreaterThan(0);
  expect(maxDifference(weightsSync(model.autoencoder), autoencoder)).toBe(0);
  expect(maxDifference(weightsSync(model.textEncoder), text)).toBe(0);

  await resetDenoiser(other, 12);
  expect(maxDifference(reset, weightsSync(other.unet))).toBeGreaterThan(0);
  await expect(resetDenoiser(model, 1.5)).rejects.toThrow(/seed must be an integer, got 1.5/);
  model.dispose();
  other.dispose();
});

test("Method 3 trains a reset UNet from scratch: the denoising loss falls", async () => {
  const model = tinyModel(examples, 3);
  await resetDenoiser(model, 5);
  const measure = async () =>
    (await groupDenoisingLoss(model, examples, { seed: 7, attributes: [sex] })).overall;
  const before = await measure();
  const events: string[] = [];
  for await (const event of fairBayesianPerturbation(model, {
    examples,
    attributes: [sex],
    steps: 12,
    seed: 2,
    batchSize: 8,
    every: 4,
    learningRate: 5e-3,
  })) {
    events.push(event.type);
  }
  expect(events.at(-1)).toBe("done");
  expect(await measure()).toBeLessThan(0.8 * before);
  model.dispose();
}, 120000);
