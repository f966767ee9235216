/**
 * The shared periodic evaluation: pooled proportions equal the representation audit's counts,
 * Wilson intervals and Shen bias against the target, an optional quality audit, its own cost and
 * the run's evaluation share; methods emit it at step 0, every k steps and at the end.
 */
import { useBackend } from "../../src/backend";
import { auditRepresentation } from "../../src/audit/representationAudit";
import type { QualityAudit } from "../../src/audit/qualityTypes";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import { shenBias } from "../../src/fairness/representationMetrics";
import { wilsonInterval } from "../../src/fairness/wilsonInterval";
import {
  EvaluationClock,
  evaluationDue,
  periodicEvaluation,
} from "../../src/methods/periodicEvaluation";
import { subgroupAlignedTuning } from "../../src/methods/subgroupAlignedTuning";
import { tinyExamples, tinyModel } from "../pipeline/tinyModel";

beforeAll(() => useBackend("wasm"));

const PROMPTS = [
  "Chest Radiography image of a patient diagnosed with Pleural Effusion",
  "Chest Radiography image of a Female patient with No Finding",
];

function classifier(): SubgroupClassifier {
  const network = new SubgroupClassifierNetwork(
    { imageSize: 16, imageChannels: 1, channels: [8, 8] },
    [
      { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
      { name: "race", kind: "attribute", classes: ["Asian", "Black", "White"] },
    ],
    5,
  );
  // Sharp heads so that random weights still split the images between groups.
  return new SubgroupClassifier(network, [0.02, 0.02]);
}

const generation = { steps: 2 };

test("pooled proportions, Wilson intervals and bias match the audit's counts; quality is passed through", async () => {
  const model = tinyModel(tinyExamples(8));
  const c = classifier();
  const target = { sex: { Female: 0.3, Male: 0.7 } };
  const fakeQuality = { elapsedMs: 1 } as unknown as QualityAudit;
  let qualityCalls = 0;
  const clock = new EvaluationClock();
  const event = await periodicEvaluation(
    model,
    c,
    {
      prompts: PROMPTS,
      imagesPerPrompt: 6,
      seed: 9,
      generation,
      quality: async (m) => {
        expect(m).toBe(model);
        qualityCalls++;
        return fakeQuality;
      },
    },
    { method: "subgroup", step: 12, target, clock },
  );
  expect(event).toMatchObject({ type: "evaluation", method: "subgroup", step: 12 });
  expect(qualityCalls).toBe(1);
  expect(event.quality).toBe(fakeQuality);
  const audit = await auditRepresentation(model, c, {
    prompts: PROMPTS,
    imagesPerPrompt: 6,
    seed: 9,
    generation,
    targets: target,
    resamples: 10,
  });
  expect(event.attributes.map((a) => a.attribute)).toEqual(["sex", "race"]);
  event.attributes.forEach((a, k) => {
    const counts = a.groups.map(
      (_, g) => audit[0].attributes[k].counts[g] + audit[1].attributes[k].counts[g],
    );
    expect(a.n).toBe(12);
    expect(a.proportions).toEqual(counts.map((c) => c / 12));
    expect(a.intervals).toEqual(counts.map((c) => wilsonInterval(c, 12)));
    expect(a.bias).toBeCloseTo(shenBias(a.proportions, a.target), 12);
  });
  expect(event.attributes[0].target).toEqual([0.3, 0.7]);
  expect(event.attributes[1].target).toEqual([1 / 3, 1 / 3, 1 / 3]); // not in the target: uniform
  expect(event.elapsedMs).toBeGreaterThan(0);
  expect(clock.evaluationMs).toBe(event.elapsedMs);
  expect(event.evaluationShare).toBeGreaterThan(0);
  expect(event.evaluationShare).toBeLessThanOrEqual(1);
  await expect(
    periodicEvaluation(
      model,
      c,
      { prompts: PROMPTS, imagesPerPrompt: 1, seed: 1 },
      {
        method: "subgroup",
        step: 0,
        target,
      },
    ),
  ).rejects.toThrow(/imagesPerPrompt must be an integer ≥ 2, got 1/);
  await expect(
    periodicEvaluation(
      model,
      c,
      { prompts: [], imagesPerPrompt: 4, seed: 1 },
      {
        method: "subgroup",
        step: 0,
        target,
      },
    ),
  ).rejects.toThrow(/at least one prompt/);
  await expect(
    periodicEvaluation(
      model,
      c,
      { prompts: PROMPTS, imagesPerPrompt: 4, seed: 1, generation },
      {
        method: "subgroup",
        step: 0,
        target: { sex: { Female: 0.3, Male: 0.3 } },
      },
    ),
  ).rejects.toThrow(/sums to 0.6, not 1/);
  model.dispose();
  c.dispose();
}, 60_000);

test("evaluation clock: share = evaluation time / run time", () => {
  const clock = new EvaluationClock(performance.now() - 1000);
  clock.record(250);
  clock.record(250);
  expect(clock.evaluationMs).toBe(500);
  // Run time is at least the 1000 ms given, so the share is at most a half.
  expect(clock.share()).toBeLessThanOrEqual(0.5);
  expect(clock.share()).toBeGreaterThan(0.3);
  expect(() => clock.record(-1)).toThrow(/must be ≥ 0 ms, got -1/);
});

test("evaluations are due at the start, every k steps and at the last step", () => {
  const options = { every: 3, prompts: ["p"], imagesPerPrompt: 2, seed: 1 };
  const due = Array.from({ length: 8 }, (_, s) => evaluationDue(options, s, 7));
  expect(due).toEqual([true, false, false, true, false, false, true, true]);
  expect(evaluationDue(undefined, 0, 7)).toBe(false);
});

test("a method yields evaluation events at step 0, every k steps and at the end", async () => {
  const model = tinyModel(tinyExamples(8));
  const c = classifier();
  const steps: number[] = [];
  const kinds: string[] = [];
  for await (const e of subgroupAlignedTuning(model, c, {
    steps: 3,
    seed: 1,
    prompts: [PROMPTS[0]],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: 2,
    sampler: { steps: 2 },
    evaluation: { every: 2, prompts: [PROMPTS[0]], imagesPerPrompt: 2, seed: 3, generation },
  })) {
    kinds.push(e.type);
    if (e.type === "evaluation") {
      steps.push(e.step);
      expect(e.attributes[0].target).toEqual([0.5, 0.5]);
    }
  }
  expect(steps).toEqual([0, 2, 3]);
  expect(kinds).toEqual(["evaluation", "step", "step", "evaluation", "step", "evaluation", "done"]);
  model.dispose();
  c.dispose();
}, 60_000);
