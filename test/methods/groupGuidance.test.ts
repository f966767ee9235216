/**
 * Classifier guidance toward each image's target groups (groupGuidance.ts): the shift it makes
 * is the scaled gradient of the targets' log-probability at the predicted clean image (checked
 * against finite differences), it raises that log-probability, it leaves unguided rows and scale
 * 0 alone; and Method 1 with a guided teacher carries an attribute the prompt cannot name (age)
 * by distillation instead of the cross-entropy.
 */
import * as tf from "@tensorflow/tfjs-core";
import { chestFindingsPrompt } from "../../src/data/prompts";
import { resolveAlignmentAttributes } from "../../src/methods/alignmentAttributes";
import { latentsToUnitImages } from "../../src/methods/alignmentLoss";
import { resolveAlignmentOptions } from "../../src/methods/alignmentOptions";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import { groupGuidedPrediction, type GroupGuidance } from "../../src/methods/groupGuidance";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { NoiseSchedule } from "../../src/schedulers/noiseSchedule";
import {
  TEXT_MODEL_CONFIG,
  alignmentClassifierWithAge,
  alignmentOptions,
  alignmentTestBed,
  collectEvents,
  stepEvents,
  textModel,
} from "./fixtures";

const bed = alignmentTestBed();
// Where √(1−ᾱ) ≈ 0.6 and √ᾱ ≈ 0.8: a missing or extra factor shows.
const T = 200;

/** Σ_i log p(target_i) of the classifier on the images decoded from `clean` (sex and race heads). */
async function targetLogProbability(
  model: LatentDiffusionModel,
  clean: tf.Tensor4D,
  targets: { sex: number[]; race: number[] },
): Promise<number[]> {
  const perRow = tf.tidy(() => {
    const logits = bed.classifier.network.logits(latentsToUnitImages(model, clean));
    const pick = (head: number, groups: number[]) =>
      tf.sum(tf.mul(tf.logSoftmax(logits[head]), tf.oneHot(groups, logits[head].shape[1])), 1);
    return tf.add(pick(0, targets.sex), pick(1, targets.race));
  });
  const values = Array.from(await perRow.data());
  perRow.dispose();
  return values;
}

function setup(scale: number) {
  const attributes = resolveAlignmentAttributes(bed.classifier, {
    sex: { Female: 0.5, Male: 0.5 },
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const schedule = new NoiseSchedule({});
  const guidance: GroupGuidance = {
    classifier: bed.classifier,
    attributes,
    // Row 2 is not guided (−1 for both attributes).
    targets: [Int32Array.of(0, 1, -1), Int32Array.of(2, 0, -1)],
    scale,
    schedule,
  };
  const z = tf.randomNormal([3, 4, 4, 4], 0, 1, "float32", 11) as tf.Tensor4D;
  const epsilon = tf.randomNormal([3, 4, 4, 4], 0, 1, "float32", 12) as tf.Tensor4D;
  const alphaBar = schedule.alphaBar(T);
  const cleanOf = (e: tf.Tensor4D) =>
    tf.tidy(
      () =>
        tf.div(tf.sub(z, tf.mul(e, Math.sqrt(1 - alphaBar))), Math.sqrt(alphaBar)) as tf.Tensor4D,
    );
  return { guidance, z, epsilon, alphaBar, cleanOf };
}

test("the shift is s·√(1−ᾱ) times the targets' log-probability gradient at the predicted clean image", async () => {
  const model = textModel();
  const scale = 0.5;
  const { guidance, z, epsilon, alphaBar, cleanOf } = setup(scale);
  const tensors = tf.memory().numTensors;
  const guided = groupGuidedPrediction(guidance, model, z, T, epsilon);
  expect(tf.memory().numTensors).toBe(tensors + 1);
  const shift = await tf
    .tidy(() => tf.div(tf.sub(epsilon, guided), scale * Math.sqrt(1 - alphaBar)))
    .data();
  // Finite differences of Σ log p over a few entries of image 0's and image 1's clean latents.
  const clean = cleanOf(epsilon);
  const values = await clean.data();
  const targets = { sex: [0, 1, 0], race: [2, 0, 0] };
  const h = 1e-2;
  for (const index of [0, 5, 37, 64 + 3, 64 + 50]) {
    const at = async (delta: number) => {
      const moved = Float32Array.from(values);
      moved[index] += delta;
      const x = tf.tensor4d(moved, clean.shape);
      const rows = await targetLogProbability(model, x, targets);
      x.dispose();
      return rows[0] + rows[1];
    };
    const finite = ((await at(h)) - (await at(-h))) / (2 * h);
    expect(Math.abs(finite)).toBeGreaterThan(5e-5);
    // The log-probabilities are float32: each evaluation is rounded to within one unit in the
    // last place, so the difference quotient is only known to 2 ulps / 2h (~2.4e-5 here), on
    // top of the 10 % the second-order term may take.
    const ulp = 2 ** (Math.floor(Math.log2(Math.abs(await at(0)))) - 23);
    expect(Math.abs(shift[index] - finite)).toBeLessThan(0.1 * Math.abs(finite) + ulp / h);
  }
  // Row 2 has no target: its prediction is unchanged.
  const row = 64;
  const original = await epsilon.data();
  const out = await guided.data();
  for (let j = 2 * row; j < 3 * row; j++) expect(out[j]).toBe(original[j]);
  tf.dispose([guided, clean, z, epsilon]);
  model.dispose();
});

test("guiding raises the targets' probability at the predicted clean image; scale 0 changes nothing", async () => {
  const model = textModel();
  const { guidance, z, epsilon, cleanOf } = setup(0.2);
  const targets = { sex: [0, 1, 0], race: [2, 0, 0] };
  const guided = groupGuidedPrediction(guidance, model, z, T, epsilon);
  const before = await targetLogProbability(model, cleanOf(epsilon), targets);
  const after = await targetLogProbability(model, cleanOf(guided), targets);
  expect(after[0]).toBeGreaterThan(before[0]);
  expect(after[1]).toBeGreaterThan(before[1]);
  const unguided = groupGuidedPrediction({ ...guidance, scale: 0 }, model, z, T, epsilon);
  expect(Array.from(await unguided.data())).toEqual(Array.from(await epsilon.data()));
  tf.dispose([guided, unguided, z, epsilon]);
  model.dispose();
});

test("the guidance scale is checked before any work and defaults to 0.1", () => {
  expect(() => resolveAlignmentOptions(alignmentOptions({ distillGuidance: -0.5 }))).toThrow(
    /distillGuidance must be ≥ 0, got -0.5/,
  );
  expect(resolveAlignmentOptions(alignmentOptions({})).distillGuidance).toBe(0.1);
});

test("with the teacher guided, age — which the prompt cannot name — is distilled, not left to the cross-entropy", async () => {
  const neutral = chestFindingsPrompt({ findings: ["Pleural Effusion"] });
  const withAge = alignmentClassifierWithAge();
  const run = async (distillGuidance: number) => {
    const model = LatentDiffusionModel.create(
      [
        neutral,
        ...["Asian", "Black", "White"].map((race) =>
          chestFindingsPrompt({ race, findings: ["Pleural Effusion"] }),
        ),
      ],
      TEXT_MODEL_CONFIG,
      4,
    );
    const tensors = tf.memory().numTensors;
    const events = stepEvents(
      await collectEvents(
        distributionalAlignment(
          model,
          withAge,
          alignmentOptions({
            prompts: [neutral],
            target: () => ({
              race: { Asian: 0.34, Black: 0.33, White: 0.33 },
              ageBand: { "18-39": 0.375, "40-64": 0.375, "65+": 0.25 },
            }),
            trainable: "unet-lora",
            steps: 2,
            // Every image confident enough for the cross-entropy, were it on.
            threshold: 0,
            semanticWeight: 0,
            distillWeight: 1,
            distillGuidance,
            // The targets as the target assigns them (no feedback): the two runs differ only
            // in the teacher's guidance.
            assignmentFeedback: 0,
          }),
        ),
      ),
    );
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
    return events;
  };
  try {
    const guided = await run(0.5);
    const plain = await run(0);
    for (const e of guided) expect(e.losses.fairness).toBe(0);
    // Unguided, age keeps its cross-entropy.
    expect(plain[0].losses.fairness).toBeGreaterThan(0);
    // Same noise, same targets: the guided teacher's predictions differ from the plain one's.
    expect(guided[0].losses.distill).toBeGreaterThan(0);
    expect(guided[0].losses.distill).not.toBeCloseTo(plain[0].losses.distill as number, 6);
  } finally {
    withAge.dispose();
  }
});
