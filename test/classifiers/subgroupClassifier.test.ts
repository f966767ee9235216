/**
 * Subgroup classifiers learn the cohort's attribute and finding cues, calibrate, report a
 * confusion matrix on held-out data, and round-trip through their checkpoint.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  SubgroupClassifier,
  fitTemperature,
  negativeLogLikelihood,
  tasksFor,
  trainSubgroupClassifier,
} from "../../src/classifiers";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { createRng } from "../../src/util/random";

beforeAll(() => useBackend("wasm"));

test("temperature scaling cools an over-confident head (T > 1) and lowers its NLL", () => {
  const rng = createRng(1);
  const n = 400;
  const logits = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(2);
    // 75 % of predictions right, all with logit margin 6: far too sure.
    const predicted = rng.next() < 0.75 ? labels[i] : 1 - labels[i];
    logits[i * 2 + predicted] = 6;
  }
  const t = fitTemperature(logits, labels, 2);
  expect(t).toBeGreaterThan(2);
  expect(negativeLogLikelihood(logits, labels, 2, t)).toBeLessThan(
    negativeLogLikelihood(logits, labels, 2, 1),
  );
});

test("a head that is always right on calibration is not sharpened past T = 0.25", () => {
  const logits = Float32Array.from([3, 0, 0, 3, 3, 0, 0, 3]);
  const t = fitTemperature(logits, [0, 1, 0, 1], 2);
  expect(t).toBeGreaterThanOrEqual(0.25);
  expect(t).toBeLessThan(0.26);
});

test("a classifier trained on the chest cohort reads sex and effusion, with a held-out confusion matrix", async () => {
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 1000, seed: 21, imageSize: 32 });
  const samples = cohort.records.map((_, i) => cohort.sampleAt(i));
  const tasks = tasksFor(
    cohort.attributes.filter((a) => a.name === "sex"),
    ["Pleural Effusion"],
  );
  const before = tf.memory().numTensors;
  const classifier = await trainSubgroupClassifier(
    {
      train: samples.slice(0, 700),
      calibration: samples.slice(700, 850),
      test: samples.slice(850),
    },
    { tasks, seed: 2, epochs: 6, channels: [8, 16, 32, 32], batchSize: 32 },
  );
  for (const head of classifier.evaluation) {
    expect(head.n).toBe(150);
    expect(head.confusion.flat().reduce((a, b) => a + b, 0)).toBe(150);
    expect(head.accuracy).toBeGreaterThan(0.85);
    expect(head.temperature).toBeGreaterThan(0);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-clf-"));
  const file = path.join(dir, "cxr.fdckpt");
  await classifier.save(file);
  const loaded = SubgroupClassifier.load(file);
  const a = await classifier.predict(samples.slice(850, 870).map((s) => s.image));
  const b = await loaded.predict(samples.slice(850, 870).map((s) => s.image));
  expect(Array.from(b[0].probabilities)).toEqual(Array.from(a[0].probabilities));
  expect(loaded.evaluation).toEqual(classifier.evaluation);
  expect(() => loaded.task("race")).toThrow(/no head "race"/);
  await expect(
    classifier.predict([
      createSyntheticCohort({ cohort: "cxr", size: 1, seed: 1, imageSize: 16 }).sampleAt(0).image,
    ]),
  ).rejects.toThrow(/16×16×1, the classifier needs 32×32×1/);
  classifier.dispose();
  loaded.dispose();
  expect(tf.memory().numTensors).toBe(before);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120000);
