/**
 * The latent diffusion pipeline end to end at toy size: training lowers the loss without leaking
 * tensors, stops on abort, resumes exactly, and sampling is seeded per image and survives a
 * save/load round trip.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";
import { autoencoderTraining } from "../../src/pipeline/trainAutoencoder";
import { denoiserTraining, type DenoiserTrainingOptions } from "../../src/pipeline/trainDenoiser";
import type { TrainingEvent, TrainingSummary } from "../../src/pipeline/trainingEvents";
import { tinyExamples, tinyModel } from "./tinyModel";
import { reconstructionPsnr } from "../../src/pipeline/reconstructionQuality";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";

async function drain(
  run: AsyncGenerator<TrainingEvent, TrainingSummary>,
): Promise<{ events: TrainingEvent[]; summary: TrainingSummary }> {
  const events: TrainingEvent[] = [];
  let r = await run.next();
  while (!r.done) {
    events.push(r.value);
    r = await run.next();
  }
  return { events, summary: r.value };
}

let dir: string;
beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-ldm-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const examples = tinyExamples(16);

test("autoencoder then denoiser training lower their losses and leak no tensors", async () => {
  const model = tinyModel(examples);
  const before = tf.memory().numTensors;
  const ae = await drain(
    autoencoderTraining(model, examples, {
      steps: 30,
      seed: 1,
      batchSize: 8,
      replicas: 1,
      learningRate: 3e-3,
    }),
  );
  const aeLoss = ae.events
    .filter((e) => e.kind === "step")
    .map((e) => (e.kind === "step" ? e.loss : 0));
  expect(aeLoss[aeLoss.length - 1]).toBeLessThan(aeLoss[0] * 0.7);
  expect(model.autoencoder.config.scalingFactor).not.toBe(1);
  const dn = await drain(
    denoiserTraining(model, examples, { steps: 12, seed: 1, batchSize: 8, replicas: 1 }),
  );
  const steps = dn.events.filter((e) => e.kind === "step");
  expect(steps).toHaveLength(12);
  const last = steps[steps.length - 1];
  if (last.kind !== "step") throw new Error("unreachable");
  expect(last.imagesPerSecond).toBeGreaterThan(0);
  expect(last.etaSeconds).toBe(0);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
}, 180000);

test("an aborted run stops at the next step and says so", async () => {
  const model = tinyModel(examples);
  const controller = new AbortController();
  const run = denoiserTraining(model, examples, {
    steps: 50,
    seed: 2,
    batchSize: 4,
    replicas: 1,
    signal: controller.signal,
  });
  let seen = 0;
  let r = await run.next();
  while (!r.done) {
    if (r.value.kind === "step" && ++seen === 3) controller.abort();
    r = await run.next();
  }
  expect(r.value.aborted).toBe(true);
  expect(r.value.stepsDone).toBe(3);
  model.dispose();
}, 60000);

test("resuming from the state file continues exactly like an uninterrupted run", async () => {
  const options = (stateFile: string, steps: number): DenoiserTrainingOptions => ({
    steps,
    seed: 4,
    batchSize: 4,
    replicas: 1,
    stateFile,
    emaDecay: 0.9,
  });
  const straight = tinyModel(examples);
  await drain(denoiserTraining(straight, examples, options(path.join(dir, "a.fdstate"), 6)));
  const expected = await straight.unet.getWeights();

  const interrupted = tinyModel(examples);
  const controller = new AbortController();
  const run = denoiserTraining(interrupted, examples, {
    ...options(path.join(dir, "b.fdstate"), 6),
    signal: controller.signal,
  });
  let r = await run.next();
  while (!r.done) {
    if (r.value.kind === "step" && r.value.step === 3) controller.abort();
    r = await run.next();
  }
  expect(r.value.stepsDone).toBe(3);
  interrupted.dispose();

  const resumed = tinyModel(examples);
  const rest = await drain(
    denoiserTraining(resumed, examples, options(path.join(dir, "b.fdstate"), 6)),
  );
  expect(rest.events.filter((e) => e.kind === "step").map((e) => e.step)).toEqual([4, 5, 6]);
  const got = await resumed.unet.getWeights();
  for (const name of Object.keys(expected))
    expect(Array.from(got[name])).toEqual(Array.from(expected[name]));
  straight.dispose();
  resumed.dispose();
}, 120000);

test("sampling is seeded per image, batch-independent, and survives save/load", async () => {
  const model = tinyModel(examples);
  const prompts = examples.slice(0, 3).map((e) => e.prompt);
  const all = await generateImages(model, prompts, { seed: 9, steps: 4 });
  const third = await generateImages(model, prompts.slice(2), { seed: 9, steps: 4, firstIndex: 2 });
  expect(all.shape).toEqual([3, 16, 16, 1]);
  const a = all.slice([2, 0, 0, 0], [1, -1, -1, -1]);
  expect(Array.from(third.dataSync())).toEqual(Array.from(a.dataSync()));
  const other = await generateImages(model, prompts.slice(2), {
    seed: 10,
    steps: 4,
    firstIndex: 2,
  });
  expect(Array.from(other.dataSync())).not.toEqual(Array.from(a.dataSync()));
  const values = all.dataSync();
  expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...values)).toBeLessThanOrEqual(1);

  const file = path.join(dir, "tiny.fdckpt");
  await model.save(file);
  const loaded = LatentDiffusionModel.load(file);
  const again = await generateImages(loaded, prompts, { seed: 9, steps: 4 });
  expect(Array.from(again.dataSync())).toEqual(Array.from(all.dataSync()));
  expect(loaded.tokenizer.toJSON()).toEqual(model.tokenizer.toJSON());
  tf.dispose([all, third, a, other, again]);
  model.dispose();
  loaded.dispose();
}, 60000);

test("denoiser training on two threads matches one thread (worker replicas rebuild the model)", async () => {
  const run = async (replicas: number) => {
    const model = tinyModel(examples);
    await drain(
      denoiserTraining(model, examples, { steps: 3, seed: 5, batchSize: 8, replicas, emaDecay: 0 }),
    );
    const weights = await model.unet.getWeights();
    model.dispose();
    return weights;
  };
  const one = await run(1);
  const two = await run(2);
  let worst = 0;
  for (const name of Object.keys(one)) {
    one[name].forEach((x, j) => (worst = Math.max(worst, Math.abs(x - two[name][j]))));
  }
  expect(worst).toBeLessThan(1e-4);
}, 120000);

test("aborting generation frees every tensor it made", async () => {
  const model = tinyModel(examples);
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  controller.abort();
  await expect(
    generateImages(model, [examples[0].prompt], { seed: 1, steps: 3, signal: controller.signal }),
  ).rejects.toThrow(/aborted/);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();
});

test("reconstruction PSNR is reported per subgroup with counts that add up", async () => {
  const model = tinyModel(examples);
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 12, seed: 8, imageSize: 16 });
  const quality = await reconstructionPsnr(
    model,
    cohort.records.map((_, i) => cohort.sampleAt(i)),
    ["sex", "race"],
  );
  expect(quality.n).toBe(12);
  expect(Number.isFinite(quality.overall)).toBe(true);
  for (const groups of Object.values(quality.byAttribute)) {
    expect(Object.values(groups).reduce((s, g) => s + g.count, 0)).toBe(12);
  }
  expect(Object.keys(quality.byAttribute.sex).sort()).toEqual(["Female", "Male"]);
  model.dispose();
});
