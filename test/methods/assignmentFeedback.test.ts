/**
 * Method 1's assignment feedback: the running shares (a mean, then a moving average over the
 * window), the shares it assigns (more to a group the model draws too little of, bounded, a
 * group the target leaves out kept out), its checks and settings record, and a run with it —
 * the assigned shares reported per step follow the measured ones, nothing leaks, and a resumed
 * run continues exactly.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { chestFindingsPrompt } from "../../src/data/prompts";
import { alignmentRunSettings, resolveAlignmentOptions } from "../../src/methods/alignmentOptions";
import { AssignmentFeedback, DEFAULT_FEEDBACK_GAIN } from "../../src/methods/assignmentFeedback";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import type { MethodStepEvent } from "../../src/methods/methodEvents";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { TEXT_MODEL_CONFIG, alignmentOptions, alignmentTestBed, stepEvents } from "./fixtures";

const bed = alignmentTestBed();

const NEUTRAL = chestFindingsPrompt({ findings: ["Pleural Effusion"] });
const naming = (sex: string) => chestFindingsPrompt({ sex, findings: ["Pleural Effusion"] });

test("the running shares: a plain mean until the window is full, then a moving average", () => {
  const feedback = new AssignmentFeedback({ gain: 1, window: 16 });
  const half = [0.5, 0.5];
  expect(feedback.save().sex).toBeUndefined();
  feedback.assign("sex", [0, 1], 8, half);
  feedback.assign("sex", [0.5, 0.5], 8, half);
  expect(feedback.save().sex.shares).toEqual([0.25, 0.75]);
  // The window is full: each batch of 8 now weighs 8 / 16.
  feedback.assign("sex", [1, 0], 8, half);
  expect(feedback.save().sex.shares).toEqual([0.625, 0.375]);
  // A redefined attribute (other groups) starts afresh.
  feedback.assign("sex", [0.2, 0.3, 0.5], 8, [1 / 3, 1 / 3, 1 / 3]);
  expect(feedback.save().sex.shares).toEqual([0.2, 0.3, 0.5]);
});

test("the shares assigned: more to a group drawn too little, bounded, renormalised", () => {
  // A full window at once (256 images), and an integral too slow to count in one step.
  const feedback = new AssignmentFeedback({ gain: 2, maxShift: 0.2, integralImages: 1e12 });
  const shares = feedback.assign("race", [0.2, 0.4, 0.4], 256, [0.2, 0.3, 0.5]);
  // Black is over by 0.1, White short by 0.1: shifts −0.2 and +0.2 (at the bound), Asian on target.
  expect(shares[0]).toBeCloseTo(0.2, 9);
  expect(shares[1]).toBeCloseTo(0.1, 9);
  expect(shares[2]).toBeCloseTo(0.7, 9);
  // A far shortfall moves a share by maxShift at most (then the shares are renormalised).
  const sex = feedback.assign("sex", [0.02, 0.98], 256, [0.5, 0.5]);
  expect(sex[0]).toBeCloseTo(0.7, 12);
  expect(sex[0] + sex[1]).toBeCloseTo(1, 12);
  // A group the target leaves out stays out; gain 0 assigns the target.
  expect(feedback.assign("age", [0.5, 0.5, 0], 256, [0, 0.5, 0.5])[0]).toBe(0);
  const off = new AssignmentFeedback({ gain: 0 });
  expect(off.assign("sex", [0, 1], 8, [0.5, 0.5])).toEqual([0.5, 0.5]);
});

test("the integral: a steady shortfall keeps raising the share, never while the correction is at its bound", () => {
  const feedback = new AssignmentFeedback({ gain: 2, window: 8, integralImages: 80 });
  const target = [0.5, 0.5];
  // 45 % Female step after step: the proportional part alone asks 0.6; each step of 8 images
  // adds 2 · 0.05 · 8 / 80 = 0.01 to the integral.
  const first = feedback.assign("sex", [0.45, 0.55], 8, target);
  expect(first[0]).toBeCloseTo(0.61, 9);
  const later = [first];
  for (let i = 0; i < 4; i++) later.push(feedback.assign("sex", [0.45, 0.55], 8, target));
  expect(later[4][0]).toBeCloseTo(0.65, 9);
  // Up to the bound, and no further.
  for (let i = 0; i < 20; i++) feedback.assign("sex", [0.45, 0.55], 8, target);
  expect(feedback.assign("sex", [0.45, 0.55], 8, target)[0]).toBeCloseTo(0.7, 9);
  expect(feedback.save().sex.integral[0]).toBeLessThanOrEqual(0.2);
  // Far from the target the proportional part is at its bound: nothing is integrated.
  const far = new AssignmentFeedback({ gain: 2, window: 8, integralImages: 80 });
  for (let i = 0; i < 10; i++) far.assign("sex", [0.02, 0.98], 8, target);
  expect(far.save().sex.integral).toEqual([0, 0]);
  // Nor before the window is full.
  const young = new AssignmentFeedback({ gain: 2, window: 256, integralImages: 80 });
  young.assign("sex", [0.45, 0.55], 8, target);
  expect(young.save().sex.integral).toEqual([0, 0]);
});

test("the state saved is the state restored", () => {
  const feedback = new AssignmentFeedback({ gain: 2, window: 8 });
  const thirds = [1 / 3, 1 / 3, 1 / 3];
  feedback.assign("sex", [0.25, 0.75], 8, [0.5, 0.5]);
  feedback.assign("race", [0.5, 0.25, 0.25], 8, thirds);
  feedback.assign("race", [0.375, 0.25, 0.375], 8, thirds);
  const copy = new AssignmentFeedback({ gain: 2, window: 8 });
  copy.restore(JSON.parse(JSON.stringify(feedback.save())));
  expect(copy.save()).toEqual(feedback.save());
  expect(copy.assign("race", [0.5, 0.5, 0], 8, thirds)).toEqual(
    feedback.assign("race", [0.5, 0.5, 0], 8, thirds),
  );
  expect(copy.save()).toEqual(feedback.save());
});

test("the option: on by default with the distillation, checked before any work, recorded only where on", () => {
  const distilled = alignmentOptions({ prompts: [NEUTRAL], distillWeight: 1 });
  expect(() => resolveAlignmentOptions({ ...distilled, assignmentFeedback: -1 })).toThrow(
    /assignmentFeedback must be ≥ 0, got -1/,
  );
  expect(() =>
    resolveAlignmentOptions(alignmentOptions({ prompts: [NEUTRAL], assignmentFeedback: 2 })),
  ).toThrow(/assignmentFeedback must be 0 unless distillWeight > 0/);
  // On by default with the distillation, at the default gain; off without it.
  expect(resolveAlignmentOptions(distilled).assignmentFeedback).toBe(DEFAULT_FEEDBACK_GAIN);
  expect(resolveAlignmentOptions(alignmentOptions()).assignmentFeedback).toBe(0);
  const recorded = (gain?: number) =>
    alignmentRunSettings(resolveAlignmentOptions({ ...distilled, assignmentFeedback: gain }))[
      "assignment feedback"
    ];
  expect(recorded(3)).toBe(3);
  expect(recorded(undefined)).toBe(DEFAULT_FEEDBACK_GAIN);
  // Runs with it off keep their settings record (and so their state files).
  expect(recorded(0)).toBeUndefined();
});

test("a run with feedback: the assigned shares follow the measured ones, nothing leaks, a resumed run continues exactly", async () => {
  const prompts = [NEUTRAL, naming("Female"), naming("Male")];
  const options = (overrides: Parameters<typeof alignmentOptions>[0] = {}) =>
    alignmentOptions({
      prompts: [NEUTRAL],
      trainable: "unet-lora",
      steps: 3,
      semanticWeight: 0,
      fairnessWeight: 0,
      distillWeight: 1,
      assignmentFeedback: 2,
      ...overrides,
    });
  const straightModel = LatentDiffusionModel.create(prompts, TEXT_MODEL_CONFIG, 4);
  const tensors = tf.memory().numTensors;
  const straight = stepEvents(await bed.collect(straightModel, options()));
  expect(tf.memory().numTensors).toBe(tensors);
  // The shares each step assigned are the feedback's on the proportions measured so far.
  const replay = new AssignmentFeedback({ gain: 2 });
  for (const event of straight) {
    const detail = event.detail as {
      attributes: { proportions: number[] }[];
      assignedShares: number[][];
    };
    expect(detail.assignedShares[0]).toEqual(
      replay.assign("sex", detail.attributes[0].proportions, 4, [0.5, 0.5]),
    );
  }
  // The untrained classifier reads the batches off target: the feedback moved the shares (so the
  // resumed run below needs the saved running shares to match).
  const moved = (event: MethodStepEvent) =>
    (event.detail as { assignedShares: number[][] }).assignedShares[0][0] !== 0.5;
  expect(straight.slice(1).every(moved)).toBe(true);
  // Resumed after two steps: the third step as in the uninterrupted run.
  const stateFile = path.join(bed.dir, "feedback.fdckpt");
  const controller = new AbortController();
  const firstModel = LatentDiffusionModel.create(prompts, TEXT_MODEL_CONFIG, 4);
  for await (const event of distributionalAlignment(
    firstModel,
    bed.classifier,
    options({ stateFile, signal: controller.signal }),
  )) {
    if (event.type === "step" && event.step === 2) controller.abort();
  }
  const resumedModel = LatentDiffusionModel.create(prompts, TEXT_MODEL_CONFIG, 4);
  const resumed = stepEvents(await bed.collect(resumedModel, options({ stateFile })));
  const last = (events: MethodStepEvent[]) => events[events.length - 1];
  expect(resumed.map((e) => e.step)).toEqual([3]);
  expect(last(resumed).detail.assignedShares).toEqual(last(straight).detail.assignedShares);
  expect(last(resumed).losses.total).toBe(last(straight).losses.total);
  for (const m of [straightModel, firstModel, resumedModel]) m.dispose();
}, 180000);
