/**
 * Method 1's prompted distillation: which prompt the original model is asked for, per image
 * (its target groups, only what the format can name), the one exact assignment that picks the
 * targets, the term between two prompts (positive for the untuned model, its gradient lowers it),
 * the option's checks, and a run with only this term (reported, no tensor left, the model moves).
 */
import * as tf from "@tensorflow/tfjs-core";
import { chestFindingsPrompt } from "../../src/data/prompts";
import { resolveAlignmentAttributes } from "../../src/methods/alignmentAttributes";
import { alignmentRunSettings, resolveAlignmentOptions } from "../../src/methods/alignmentOptions";
import { sampledAssignment } from "../../src/methods/optimalTransportTargets";
import { originalPredictionMatchGradients } from "../../src/methods/originalPredictionMatch";
import { distillationPrompts, distilledAttributes } from "../../src/methods/promptedDistillation";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { createRng } from "../../src/util/random";
import { weightsSync } from "../helpers/weights";
import {
  TEXT_MODEL_CONFIG,
  alignmentClassifierWithAge,
  alignmentOptions,
  alignmentTestBed,
  raceUnetLoraOptions,
  stepEvents,
  SEX_RACE_SIXTHS,
  unetLoraKeepingOriginal,
} from "./fixtures";

const bed = alignmentTestBed();

const NEUTRAL = chestFindingsPrompt({ findings: ["Pleural Effusion"] });
const naming = (groups: { sex?: string; race?: string }) =>
  chestFindingsPrompt({ ...groups, findings: ["Pleural Effusion"] });

test("each image's prompt names its target groups", () => {
  const race = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  expect(
    distillationPrompts({
      classifier: bed.classifier,
      prompts: new Array<string>(3).fill(NEUTRAL),
      attributes: race,
      targets: [Int32Array.of(1, 0, 2)],
    }),
  ).toEqual([naming({ race: "Black" }), naming({ race: "Asian" }), naming({ race: "White" })]);
  const both = resolveAlignmentAttributes(bed.classifier, SEX_RACE_SIXTHS);
  expect(
    distillationPrompts({
      classifier: bed.classifier,
      prompts: [NEUTRAL, NEUTRAL],
      attributes: both,
      targets: [Int32Array.of(1, 3)], // Female×Black; Male×Asian
    }),
  ).toEqual([naming({ sex: "Female", race: "Black" }), naming({ sex: "Male", race: "Asian" })]);
});

test("one exact assignment: the target's proportions, the likeliest images first", () => {
  // Eight images all read as male: half of them must still be assigned "Female".
  const allMale = Float32Array.from({ length: 16 }, (_, j) => (j % 2 === 0 ? 0.01 + j * 1e-3 : 0));
  for (let i = 0; i < 8; i++) allMale[i * 2 + 1] = 1 - allMale[i * 2];
  const sexes = sampledAssignment(allMale, 2, [0.5, 0.5], createRng(4));
  expect(sexes.filter((g) => g === 0).length).toBe(4);
  // The four least male images (the highest p(Female): images 4–7) are the ones assigned.
  expect(Array.from(sexes)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  // Three groups, 6 images, a third each: two of each, every image to its likeliest group.
  const sure = [0, 1, 2, 2, 1, 0];
  const race = Float32Array.from({ length: 18 }, (_, j) =>
    j % 3 === sure[Math.floor(j / 3)] ? 0.9 : 0.05,
  );
  expect(Array.from(sampledAssignment(race, 3, [1 / 3, 1 / 3, 1 / 3], createRng(1)))).toEqual(sure);
});

test("a target the prompt's format cannot name is left out of the prompt and kept for the cross-entropy", () => {
  const withAge = alignmentClassifierWithAge();
  try {
    const attributes = resolveAlignmentAttributes(withAge, {
      race: { Asian: 0.34, Black: 0.33, White: 0.33 },
      ageBand: { "18-39": 0.375, "40-64": 0.375, "65+": 0.25 },
    });
    expect(
      distillationPrompts({
        classifier: withAge,
        prompts: [NEUTRAL],
        attributes,
        targets: [Int32Array.of(0), Int32Array.of(2)],
      }),
    ).toEqual([naming({ race: "Asian" })]);
    // So race is distilled and age keeps the cross-entropy.
    expect(distilledAttributes(withAge, NEUTRAL, attributes)).toEqual([true, false]);
  } finally {
    withAge.dispose();
  }
});

test("the term between two prompts: positive for the untuned model, its gradient lowers it", async () => {
  const model = LatentDiffusionModel.create(
    [NEUTRAL, naming({ sex: "Female", race: "Black" })],
    TEXT_MODEL_CONFIG,
    4,
  );
  const adapters = await unetLoraKeepingOriginal(model);
  // LoRA starts at zero (B = 0): move it so every adapter weight has a gradient.
  for (const v of adapters.variables) tf.tidy(() => v.assign(tf.add(v, 0.05)));
  const prompts = [NEUTRAL, NEUTRAL];
  const originalPrompts = [naming({ race: "Black" }), naming({ sex: "Female", race: "Asian" })];
  const latents = tf.randomNormal([2, 4, 4, 4], 0, 1, "float32", 3) as tf.Tensor4D;
  const term = () =>
    originalPredictionMatchGradients({
      adapters,
      prompts,
      originalPrompts,
      latents,
      t: 500,
      guidanceScale: 3,
      weight: 1,
    });
  const tensors = tf.memory().numTensors;
  const before = await term();
  expect(before.loss).toBeGreaterThan(0);
  adapters.variables.forEach((v, i) =>
    tf.tidy(() => v.assign(tf.sub(v, tf.mul(before.gradients[i], 1e-2)))),
  );
  tf.dispose(before.gradients);
  expect(tf.memory().numTensors).toBe(tensors);
  const after = await term();
  expect(after.loss).toBeLessThan(before.loss);
  tf.dispose(after.gradients);
  latents.dispose();
  adapters.drop();
  model.dispose();
});

test("the teacher's own guidance scale reaches its prediction: no gap at the tuned scale, one at another", async () => {
  const model = LatentDiffusionModel.create([NEUTRAL], TEXT_MODEL_CONFIG, 4);
  const adapters = await unetLoraKeepingOriginal(model);
  const latents = tf.randomNormal([2, 4, 4, 4], 0, 1, "float32", 5) as tf.Tensor4D;
  const term = async (originalGuidanceScale?: number) => {
    const { loss, gradients } = await originalPredictionMatchGradients({
      adapters,
      prompts: [NEUTRAL, NEUTRAL],
      latents,
      t: 500,
      guidanceScale: 3,
      ...(originalGuidanceScale !== undefined ? { originalGuidanceScale } : {}),
      weight: 1,
    });
    tf.dispose(gradients);
    return loss;
  };
  // The untuned model against itself, same prompt: equal only where the scales are.
  expect(await term()).toBe(0);
  expect(await term(3)).toBe(0);
  expect(await term(1.5)).toBeGreaterThan(0);
  latents.dispose();
  adapters.drop();
  model.dispose();
});

test("the teacher's guidance scale: the sampler's by default, checked before work, recorded only where it differs", () => {
  const settings = (overrides: Parameters<typeof alignmentOptions>[0]) =>
    resolveAlignmentOptions(alignmentOptions({ prompts: [NEUTRAL], ...overrides }));
  expect(settings({ distillWeight: 1 }).teacherGuidanceScale).toBe(3);
  expect(
    settings({ distillWeight: 1, sampler: { steps: 3, guidanceScale: 2 } }).teacherGuidanceScale,
  ).toBe(2);
  expect(() => settings({ distillWeight: 1, teacherGuidanceScale: 0 })).toThrow(
    /teacherGuidanceScale must be > 0, got 0/,
  );
  expect(() => settings({ teacherGuidanceScale: 1.5 })).toThrow(
    /teacherGuidanceScale must be left out unless distillWeight > 0 .*got 1.5/,
  );
  const recorded = (overrides: Parameters<typeof alignmentOptions>[0]) =>
    alignmentRunSettings(settings(overrides))["teacher guidance"];
  expect(recorded({ distillWeight: 1, teacherGuidanceScale: 1.5 })).toBe(1.5);
  // At the sampler's scale the run is the one earlier state files describe.
  expect(recorded({ distillWeight: 1, teacherGuidanceScale: 3 })).toBeUndefined();
  expect(recorded({ distillWeight: 1 })).toBeUndefined();
});

test("the distillation weight is checked before any work", () => {
  expect(() => resolveAlignmentOptions(alignmentOptions({ distillWeight: -1 }))).toThrow(
    /distillWeight must be ≥ 0, got -1/,
  );
  expect(() =>
    resolveAlignmentOptions(alignmentOptions({ prompts: ["a chest x-ray"], distillWeight: 1 })),
  ).toThrow(/distillWeight must be 0 for these prompts \(prompt "a chest x-ray" is in no known/);
  expect(resolveAlignmentOptions(alignmentOptions({})).distillWeight).toBe(0);
});

/** A model that knows the neutral prompt and the prompt naming each race. */
const raceNamingModel = () =>
  LatentDiffusionModel.create(
    [NEUTRAL, ...["Asian", "Black", "White"].map((race) => naming({ race }))],
    TEXT_MODEL_CONFIG,
    4,
  );

/** A race run distilling with no semantic term: its step events; fails if a tensor is left. */
async function distillingRun(
  model: LatentDiffusionModel,
  overrides: Parameters<typeof raceUnetLoraOptions>[1],
) {
  const tensors = tf.memory().numTensors;
  const events = stepEvents(
    await bed.collect(
      model,
      raceUnetLoraOptions(NEUTRAL, { semanticWeight: 0, distillWeight: 1, ...overrides }),
    ),
  );
  expect(tf.memory().numTensors).toBe(tensors);
  return events;
}

test("a run distilling race leaves it out of the cross-entropy, reports the term, moves the model and frees its tensors", async () => {
  const model = raceNamingModel();
  const original = weightsSync(model.unet);
  // The cross-entropy stays at its default weight, every image confident enough for it: race
  // is named, so it is left out.
  const events = await distillingRun(model, { threshold: 0 });
  for (const e of events) {
    expect(e.losses.fairness).toBe(0);
    expect(e.losses.semantic).toBe(0);
    expect(e.losses.total).toBeCloseTo(e.losses.distill as number, 6);
  }
  // The first step's model is the original: it already differs from the named prompts' predictions.
  expect(events[0].losses.distill).toBeGreaterThan(0);
  // The LoRA is merged into the network at the end: its weights moved.
  const tuned = weightsSync(model.unet);
  expect(
    Object.keys(original).some((name) => tuned[name].some((x, j) => x !== original[name][j])),
  ).toBe(true);
  model.dispose();
});

test("a run with the teacher at its own guidance scale learns another teacher and frees its tensors", async () => {
  const run = async (teacherGuidanceScale?: number) => {
    const model = raceNamingModel();
    const events = await distillingRun(model, {
      steps: 1,
      ...(teacherGuidanceScale !== undefined ? { teacherGuidanceScale } : {}),
    });
    model.dispose();
    return events[0].losses.distill as number;
  };
  const atSamplerScale = await run();
  expect(await run(3)).toBe(atSamplerScale);
  expect(await run(1)).not.toBe(atSamplerScale);
});
