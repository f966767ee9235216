/**
 * Method 3's training loop on a tiny model: step events carry σ, per-group losses and the
 * fairness score (hand-checked from the group losses); σ is refitted every T steps; the "none"
 * baseline trains on the very same batches with weight 1; tensors do not leak; seeded; resumable;
 * bad input fails clearly. Also the held-out per-group denoising loss.
 */
import { weightsSync } from "../helpers/weights";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { defineAttribute } from "../../src/data/subgroups";
import {
  fairBayesianPerturbation,
  type FairPerturbationOptions,
} from "../../src/methods/fairBayesianPerturbation";
import { groupDenoisingLoss } from "../../src/methods/groupDenoisingLoss";
import { labelledExamples } from "../../src/methods/labelledExamples";
import type { MethodEvent, MethodStepEvent } from "../../src/methods/methodEvents";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { tinyModel } from "../pipeline/tinyModel";
import { expectSameWeights } from "./fixtures";

beforeAll(() => useBackend("wasm"));

const cohort = createSyntheticCohort({ cohort: "cxr", size: 24, seed: 1, imageSize: 16 });
const examples = labelledExamples(cohort.records.map((_, i) => cohort.sampleAt(i)));
const sex = defineAttribute("sex", ["Female", "Male"]);
const race = defineAttribute("race", ["White", "Black", "Asian"]);

const model = (): LatentDiffusionModel => tinyModel(examples, 3);

const base = (): FairPerturbationOptions => ({
  examples,
  attributes: [sex, race],
  steps: 6,
  seed: 2,
  batchSize: 8,
  every: 3,
  learningRate: 1e-3,
});

async function stepsOf(m: LatentDiffusionModel, options: FairPerturbationOptions) {
  const events: MethodEvent[] = [];
  for await (const e of fairBayesianPerturbation(m, options)) events.push(e);
  return {
    events,
    steps: events.filter((e): e is MethodStepEvent => e.type === "step"),
  };
}

type GroupLosses = Record<string, Record<string, number | null>>;

test("step events: σ used, per-group losses, a hand-checkable fairness score, GP refits every T steps", async () => {
  const m = model();
  const { events, steps } = await stepsOf(m, base());
  expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(events.at(-1)).toMatchObject({
    type: "done",
    method: "perturb",
    steps: 6,
    aborted: false,
  });
  // σ starts at 1 everywhere and is explored every step.
  expect(Object.values(steps[0].detail.sigma as Record<string, number>)).toEqual([1, 1, 1, 1, 1]);
  expect(steps[1].detail.sigma).not.toEqual(steps[0].detail.sigma);
  // The GP chooses σ at steps 3 and 6, from the 3 pairs recorded since the last fit.
  expect(steps.filter((e) => e.detail.sigmaUpdate).map((e) => e.step)).toEqual([3, 6]);
  expect(steps[2].detail.sigmaUpdate).toMatchObject({ step: 3, observations: 3 });
  for (const e of steps) {
    const groups = e.detail.groupLosses as GroupLosses;
    const gap = (g: Record<string, number | null>) => {
      const present = Object.values(g).filter((v): v is number => v !== null);
      return present.length < 2 ? 0 : Math.max(...present) - Math.min(...present);
    };
    expect(e.detail.fairnessScore).toBeCloseTo(-(gap(groups.sex) + gap(groups.race)), 10);
    expect(e.losses["gap:sex"]).toBeCloseTo(gap(groups.sex), 10);
    for (const v of Object.values(e.detail.sigma as Record<string, number>)) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  }
  m.dispose();
}, 60_000);

test("the 'none' baseline sees the same batches with weight 1", async () => {
  const a = model();
  const b = model();
  const perturbed = (await stepsOf(a, { ...base(), steps: 2 })).steps;
  const plain = (await stepsOf(b, { ...base(), steps: 2, perturbation: "none" })).steps;
  // Same weights before step 1 and the same batch: identical unweighted losses.
  expect(plain[0].losses.unweighted).toBe(perturbed[0].losses.unweighted);
  expect(plain[0].detail.groupLosses).toEqual(perturbed[0].detail.groupLosses);
  for (const e of plain) {
    expect(Object.values(e.detail.sigma as Record<string, number>)).toEqual([0, 0, 0, 0, 0]);
    expect(e.losses.total).toBeCloseTo(e.losses.unweighted, 5);
  }
  expect(perturbed[0].losses.total).not.toBeCloseTo(perturbed[0].losses.unweighted, 5);
  a.dispose();
  b.dispose();
}, 60_000);

test("tensor count flat across steps, same seed → same numbers", async () => {
  const run = async () => {
    const m = model();
    const counts: number[] = [];
    const numbers: number[] = [];
    for await (const e of fairBayesianPerturbation(m, { ...base(), steps: 5 })) {
      if (e.type !== "step") continue;
      counts.push(tf.memory().numTensors);
      numbers.push(e.losses.total, e.detail.fairnessScore as number);
    }
    m.dispose();
    return { counts, numbers };
  };
  const before = tf.memory().numTensors;
  const first = await run();
  expect(new Set(first.counts.slice(1)).size).toBe(1);
  expect(tf.memory().numTensors).toBe(before);
  expect((await run()).numbers).toEqual(first.numbers);
}, 60_000);

test("an aborted run resumes from its state file exactly (weights, optimizer, σ search)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-perturb-"));
  try {
    const straight = model();
    const full = (await stepsOf(straight, base())).steps;
    const stateFile = path.join(dir, "state.fdckpt");
    const controller = new AbortController();
    const first = model();
    for await (const e of fairBayesianPerturbation(first, {
      ...base(),
      stateFile,
      signal: controller.signal,
    })) {
      if (e.type === "step" && e.step === 4) controller.abort();
    }
    first.dispose();
    const resumed = model();
    const rest = (await stepsOf(resumed, { ...base(), stateFile })).steps;
    expect(rest.map((e) => e.step)).toEqual([5, 6]);
    expect(rest.map((e) => e.losses.total)).toEqual(full.slice(4).map((e) => e.losses.total));
    expect(rest.map((e) => e.detail.sigma)).toEqual(full.slice(4).map((e) => e.detail.sigma));
    expectSameWeights(weightsSync(straight.unet), weightsSync(resumed.unet));
    straight.dispose();
    resumed.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);

test("bad input gets a clear error", async () => {
  const m = model();
  const bad = [{ ...examples[0], attributes: { sex: "Unknown", race: "White" } }, ...examples];
  await expect(stepsOf(m, { ...base(), examples: bad })).rejects.toThrow(
    /sample 0 has unknown group "Unknown" for attribute "sex"/,
  );
  await expect(stepsOf(m, { ...base(), examples: [] })).rejects.toThrow(/no training examples/);
  await expect(
    stepsOf(m, {
      ...base(),
      evaluation: { every: 2, prompts: ["x"], imagesPerPrompt: 4, seed: 1 },
    }),
  ).rejects.toThrow(/evaluation needs a classifier/);
  await expect(stepsOf(m, { ...base(), initialSigma: [1, 1] })).rejects.toThrow(
    /initial σ has 2 entries, expected 5/,
  );
  await expect(stepsOf(m, { ...base(), every: 1 })).rejects.toThrow(/interval T must be/);
  m.dispose();
});

test("held-out per-group denoising loss: paired across models, consistent with the overall mean", async () => {
  const m = model();
  const options = { seed: 4, attributes: [sex, race], draws: 2 };
  const a = await groupDenoisingLoss(m, examples, options);
  expect(await groupDenoisingLoss(m, examples, options)).toEqual(a);
  expect(a.n).toBe(examples.length * 2);
  for (const attribute of a.byAttribute) {
    expect(attribute.n.reduce((s, v) => s + v, 0)).toBe(a.n);
    const pooled =
      attribute.mean.reduce((s, v, g) => s + (attribute.n[g] > 0 ? v * attribute.n[g] : 0), 0) /
      a.n;
    expect(pooled).toBeCloseTo(a.overall, 5);
    const present = attribute.mean.filter((v) => !Number.isNaN(v));
    expect(attribute.gap).toBeCloseTo(Math.max(...present) - Math.min(...present), 12);
  }
  expect((await groupDenoisingLoss(m, examples, { ...options, seed: 5 })).overall).not.toBe(
    a.overall,
  );
  m.dispose();
});
