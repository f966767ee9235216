/**
 * Method 2 on a tiny model and a tiny (untrained, fixed) classifier: the distribution loss falls
 * and the batch-mean proportions move toward the target; the target getter is read every step;
 * tensors do not leak; runs are seeded; state files resume; bad input fails clearly; an
 * intersection target (sex × race) is matched through its heads' joint log-probabilities.
 */
import { weightsSync } from "../helpers/weights";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import {
  attributeLogProbabilities,
  attributeProbabilities,
  resolveAlignmentAttributes,
} from "../../src/methods/alignmentAttributes";
import type {
  MethodEvent,
  MethodStepEvent,
  TargetDistributions,
} from "../../src/methods/methodEvents";
import {
  subgroupAlignedTuning,
  type SubgroupAlignedTuningOptions,
} from "../../src/methods/subgroupAlignedTuning";
import { targetFromDataset } from "../../src/methods/targetFromDataset";
import { TINY_CONFIG, tinyExamples } from "../pipeline/tinyModel";
import {
  alignmentClassifier,
  collectEvents,
  expectSameWeights,
  SEX_RACE_SIXTHS,
  stepEvents,
} from "./fixtures";

beforeAll(() => useBackend("wasm"));

const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";

/** Tiny model with live cross-attention (no zero-initialised outputs), so LoRA has a gradient. */
function model(): LatentDiffusionModel {
  return LatentDiffusionModel.create(
    tinyExamples(8).map((e) => e.prompt),
    { ...TINY_CONFIG, unet: { ...TINY_CONFIG.unet, zeroInitResiduals: false } },
    3,
  );
}

/** A fixed random classifier; a low temperature makes its probabilities react to the images. */
function classifier(temperature = 1): SubgroupClassifier {
  const network = new SubgroupClassifierNetwork(
    { imageSize: 16, imageChannels: 1, channels: [8, 8] },
    [
      { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
      { name: "Pleural Effusion", kind: "finding", classes: ["absent", "present"] },
    ],
    5,
  );
  return new SubgroupClassifier(network, [temperature, 1]);
}

const base = (target: TargetDistributions): SubgroupAlignedTuningOptions => ({
  steps: 3,
  seed: 1,
  prompts: [PROMPT],
  target: () => target,
  batchSize: 4,
  sampler: { steps: 4 },
});

test("target from a dataset: its proportions, optionally among filtered records", () => {
  const cohort = createSyntheticCohort({
    cohort: "cxr",
    size: 400,
    seed: 2,
    mix: { attributes: { sex: { Female: 0.3, Male: 0.7 } } },
  });
  const all = targetFromDataset(cohort, "sex");
  expect(all.Female).toBeCloseTo(0.3, 2);
  expect(all.Male).toBeCloseTo(0.7, 2);
  const positives = cohort.records.filter((r) => r.labels["Pleural Effusion"] === 1);
  const female = positives.filter((r) => r.attributes.sex === "Female").length;
  expect(
    targetFromDataset(cohort, "sex", { where: (r) => r.labels["Pleural Effusion"] === 1 }).Female,
  ).toBeCloseTo(female / positives.length, 12);
  expect(Object.keys(targetFromDataset(cohort, "sex×race"))).toHaveLength(6);
  expect(() => targetFromDataset(cohort, "skin")).toThrow(/unknown attribute "skin"/);
  expect(() => targetFromDataset(cohort, "sex", { where: () => false })).toThrow(
    /no records with a known "sex" that pass the filter/,
  );
});

test("the distribution loss falls and batch proportions move toward the target", async () => {
  const m = model();
  const c = classifier(0.05);
  const target = { sex: { Female: 0.9, Male: 0.1 } };
  const events = stepEvents(
    await collectEvents(
      subgroupAlignedTuning(m, c, {
        ...base(target),
        steps: 16,
        batchSize: 8,
        // The whole (untrained, tiny) UNet moves the classifier faster than LoRA does.
        trainable: "unet",
        learningRate: 3e-3,
        consistencyWeight: 0.1,
        // One sampler step: every step sees the same (pure-noise) timestep, so steps compare.
        noisyFraction: 0.25,
      }),
    ),
  );
  const female = (e: MethodStepEvent) =>
    (e.detail.batchProportions as Record<string, Record<string, number>>).sex.Female;
  const first = events.slice(0, 3);
  const last = events.slice(-3);
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  console.log(
    `Female share ${mean(first.map(female)).toFixed(3)} → ${mean(last.map(female)).toFixed(3)}; ` +
      `distribution loss ${mean(first.map((e) => e.losses.distribution)).toFixed(4)} → ${mean(last.map((e) => e.losses.distribution)).toFixed(4)}`,
  );
  expect(mean(last.map((e) => e.losses.distribution))).toBeLessThan(
    0.8 * mean(first.map((e) => e.losses.distribution)),
  );
  expect(Math.abs(mean(last.map(female)) - 0.9)).toBeLessThan(
    Math.abs(mean(first.map(female)) - 0.9),
  );
  expect(events[0].losses.consistency).toBe(0); // step 1 starts from the original model
  expect(events.at(-1)?.losses.consistency).toBeGreaterThan(0);
  expect(mean(last.map((e) => e.biasEstimate.sex))).toBeLessThan(
    mean(first.map((e) => e.biasEstimate.sex)),
  );
  m.dispose();
  c.dispose();
}, 120_000);

test("the confidence term makes images unambiguous: entropy falls, and only with it", async () => {
  // A 50/50 target that ambiguous images (p ≈ 0.5 each) already meet: the distribution loss
  // alone has no reason to sharpen them; the confidence term does.
  const target = { sex: { Female: 0.5, Male: 0.5 } };
  const run = async (confidenceWeight: number) => {
    const m = model();
    const c = classifier(0.1);
    const events = stepEvents(
      await collectEvents(
        subgroupAlignedTuning(m, c, {
          ...base(target),
          steps: 12,
          batchSize: 8,
          trainable: "unet",
          learningRate: 3e-3,
          consistencyWeight: 0.1,
          confidenceWeight,
          noisyFraction: 0.25,
        }),
      ),
    );
    m.dispose();
    c.dispose();
    return events;
  };
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  const entropy = (events: MethodStepEvent[]) => mean(events.map((e) => e.losses.confidence));
  const plain = await run(0);
  const sharpened = await run(5);
  console.log(
    `mean entropy, first 3 → last 3 steps: γ 0 ${entropy(plain.slice(0, 3)).toFixed(4)} → ${entropy(plain.slice(-3)).toFixed(4)}; ` +
      `γ 5 ${entropy(sharpened.slice(0, 3)).toFixed(4)} → ${entropy(sharpened.slice(-3)).toFixed(4)}`,
  );
  // The same seed: both runs start from the same images.
  expect(sharpened[0].losses.confidence).toBeCloseTo(plain[0].losses.confidence, 6);
  // Measured: γ 0 0.689 → 0.691, γ 5 0.684 → 0.643 (ln 2 = 0.693: the random classifier starts
  // out undecided on every image).
  expect(entropy(sharpened.slice(-3))).toBeLessThan(0.97 * entropy(sharpened.slice(0, 3)));
  expect(entropy(sharpened.slice(-3))).toBeLessThan(entropy(plain.slice(-3)) - 0.02);
  // The reported total is the weighted sum of the reported terms.
  for (const e of sharpened) {
    const { total, distribution, consistency, confidence } = e.losses;
    expect(total).toBeCloseTo(distribution + 0.1 * consistency + 5 * confidence, 4);
  }
  for (const e of plain)
    expect(e.losses.total).toBeCloseTo(e.losses.distribution + 0.1 * e.losses.consistency, 4);
}, 120_000);

test("changing the target getter mid-run changes the target used from the next step", async () => {
  const m = model();
  const c = classifier();
  let target: TargetDistributions = { sex: { Female: 0.5, Male: 0.5 } };
  const original = weightsSync(m.unet);
  const seen: Record<string, number>[] = [];
  for await (const e of subgroupAlignedTuning(m, c, {
    ...base(target),
    steps: 4,
    target: () => target,
  })) {
    if (e.type !== "step") continue;
    seen.push(e.target.sex);
    if (e.step === 2) target = { sex: { Female: 0.8, Male: 0.2 } };
  }
  expect(seen).toEqual([
    { Female: 0.5, Male: 0.5 },
    { Female: 0.5, Male: 0.5 },
    { Female: 0.8, Male: 0.2 },
    { Female: 0.8, Male: 0.2 },
  ]);
  // LoRA was merged: the model has no adapter weights left and saves as before.
  expect(Object.keys(weightsSync(m.unet)).some((k) => k.includes("lora"))).toBe(false);
  expect(Object.keys(weightsSync(m.textEncoder)).some((k) => k.includes("lora"))).toBe(false);
  const tuned = weightsSync(m.unet);
  const changed = Object.keys(original).filter((k) =>
    tuned[k].some((v, i) => v !== original[k][i]),
  );
  expect(changed.length).toBeGreaterThan(0);
  expect(changed.every((k) => k.includes("crossAttention"))).toBe(true);
  m.dispose();
  c.dispose();
}, 60_000);

test("tensor count stays flat across steps; same seed gives the same numbers", async () => {
  const c = classifier();
  const target = { sex: { Female: 0.7, Male: 0.3 } };
  const run = async () => {
    const m = model();
    const counts: number[] = [];
    const losses: number[] = [];
    for await (const e of subgroupAlignedTuning(m, c, { ...base(target), steps: 5 })) {
      if (e.type !== "step") continue;
      counts.push(tf.memory().numTensors);
      losses.push(e.losses.total);
    }
    m.dispose();
    return { counts, losses };
  };
  const before = tf.memory().numTensors;
  const a = await run();
  // Step 1 creates the optimizer's moment variables; from step 2 on nothing may accumulate.
  expect(new Set(a.counts.slice(1)).size).toBe(1);
  expect(tf.memory().numTensors).toBe(before);
  const b = await run();
  expect(b.losses).toEqual(a.losses);
  c.dispose();
}, 60_000);

test("an aborted run saves its state and a resumed run continues like an uninterrupted one", async () => {
  const c = classifier();
  const target = { sex: { Female: 0.7, Male: 0.3 } };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-subgroup-"));
  try {
    const straight = model();
    const full = stepEvents(
      await collectEvents(subgroupAlignedTuning(straight, c, { ...base(target), steps: 4 })),
    );
    const stateFile = path.join(dir, "state.fdckpt");
    const controller = new AbortController();
    const first = model();
    const part: MethodEvent[] = [];
    for await (const e of subgroupAlignedTuning(first, c, {
      ...base(target),
      steps: 4,
      stateFile,
      signal: controller.signal,
    })) {
      part.push(e);
      if (e.type === "step" && e.step === 2) controller.abort();
    }
    expect(part.at(-1)).toMatchObject({ type: "done", steps: 2, aborted: true });
    expect(part.some((e) => e.type === "checkpoint" && e.step === 2)).toBe(true);
    first.dispose();
    const resumed = model();
    const rest = stepEvents(
      await collectEvents(
        subgroupAlignedTuning(resumed, c, { ...base(target), steps: 4, stateFile }),
      ),
    );
    expect(rest.map((e) => e.step)).toEqual([3, 4]);
    expect(rest.map((e) => e.losses.total)).toEqual(full.slice(2).map((e) => e.losses.total));
    expectSameWeights(weightsSync(straight.unet), weightsSync(resumed.unet));
    straight.dispose();
    resumed.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    c.dispose();
  }
}, 90_000);

test("with emaDecay the run ends on the moving average of its weights, and resumes it", async () => {
  const c = classifier(0.2);
  const target = { sex: { Female: 0.8, Male: 0.2 } };
  const decay = 0.6;
  const options = { ...base(target), steps: 4, trainable: "unet" as const, learningRate: 1e-2 };
  // Plain run: the weights after every step.
  const plain = model();
  const trajectory = [weightsSync(plain.unet)];
  for await (const e of subgroupAlignedTuning(plain, c, options)) {
    if (e.type === "step") trajectory.push(weightsSync(plain.unet));
  }
  const expected: Record<string, Float64Array> = {};
  for (const [name, first] of Object.entries(trajectory[0])) {
    const avg = Float64Array.from(first);
    for (const weights of trajectory.slice(1)) {
      const w = weights[name];
      for (let j = 0; j < avg.length; j++) avg[j] = decay * avg[j] + (1 - decay) * w[j];
    }
    expected[name] = avg;
  }
  const last = trajectory.at(-1)!;
  const averaged = model();
  await collectEvents(subgroupAlignedTuning(averaged, c, { ...options, emaDecay: decay }));
  const result = weightsSync(averaged.unet);
  let farFromLast = 0;
  for (const [name, values] of Object.entries(result)) {
    for (let j = 0; j < values.length; j++) {
      expect(Math.abs(values[j] - expected[name][j])).toBeLessThan(1e-6);
      farFromLast = Math.max(farFromLast, Math.abs(values[j] - last[name][j]));
    }
  }
  // The average is not the last step's weights: the test would see a missing swap.
  expect(farFromLast).toBeGreaterThan(1e-4);
  expect(averaged.info.subgroupTuning).toMatchObject({ emaDecay: decay });

  // Stopped after 2 steps and resumed: the average comes back from the state file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-subgroup-ema-"));
  try {
    const stateFile = path.join(dir, "state.fdckpt");
    const controller = new AbortController();
    const first = model();
    for await (const e of subgroupAlignedTuning(first, c, {
      ...options,
      emaDecay: decay,
      stateFile,
      signal: controller.signal,
    })) {
      if (e.type === "step" && e.step === 2) controller.abort();
    }
    first.dispose();
    const resumed = model();
    await collectEvents(
      subgroupAlignedTuning(resumed, c, { ...options, emaDecay: decay, stateFile }),
    );
    expectSameWeights(result, weightsSync(resumed.unet));
    // A state file without an average cannot resume a run that keeps one: its settings differ
    // (and the model is no longer the one that run started from).
    const plainState = path.join(dir, "plain.fdckpt");
    const other = model();
    await collectEvents(
      subgroupAlignedTuning(other, c, { ...options, steps: 1, stateFile: plainState }),
    );
    await expect(
      collectEvents(
        subgroupAlignedTuning(other, c, { ...options, emaDecay: decay, stateFile: plainState }),
      ),
    ).rejects.toThrow(/other settings: model \S+ → \S+; steps 1 → 4; EMA decay none → 0\.6\./);
    other.dispose();
    resumed.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  plain.dispose();
  averaged.dispose();
  c.dispose();
}, 120_000);

test("bad input gets a clear error before any training", async () => {
  const m = model();
  const c = classifier();
  const attempt = (options: Partial<SubgroupAlignedTuningOptions>) =>
    collectEvents(
      subgroupAlignedTuning(m, c, { ...base({ sex: { Female: 0.5, Male: 0.5 } }), ...options }),
    );
  await expect(attempt({ target: () => ({ sex: { Female: 0.5, Male: 0.6 } }) })).rejects.toThrow(
    /target for "sex" sums to 1.1, not 1/,
  );
  await expect(attempt({ target: () => ({ sex: { Female: 0.5, Other: 0.5 } }) })).rejects.toThrow(
    /unknown group "Other" for attribute "sex"/,
  );
  await expect(attempt({ target: () => ({ race: { White: 1 } }) })).rejects.toThrow(
    /target names attribute "race", which the classifier cannot read: unknown attribute "race" \(known: sex\)/,
  );
  await expect(attempt({ prompts: [] })).rejects.toThrow(/at least one prompt/);
  await expect(attempt({ batchSize: 1 })).rejects.toThrow(/batchSize must be an integer ≥ 2/);
  await expect(attempt({ confidenceWeight: -1 })).rejects.toThrow(
    /confidenceWeight must be ≥ 0, got -1/,
  );
  await expect(attempt({ trainable: "vae" as never })).rejects.toThrow(
    /trainable must be "text-lora", "unet-lora", "soft-prompt", "text", "unet", or a list of them, got "vae"/,
  );
  const big = new SubgroupClassifier(
    new SubgroupClassifierNetwork(
      { imageSize: 32, imageChannels: 1, channels: [8, 8] },
      c.tasks,
      1,
    ),
    [1, 1],
  );
  await expect(
    collectEvents(subgroupAlignedTuning(m, big, base({ sex: { Female: 0.5, Male: 0.5 } }))),
  ).rejects.toThrow(/classifier reads 32×32×1 images, the model makes 16×16×1/);
  // A target that turns bad mid-run stops the run at that step with the same clear error.
  let calls = 0;
  await expect(
    attempt({
      steps: 3,
      target: () =>
        ++calls > 2 ? { sex: { Female: 2, Male: -1 } } : { sex: { Female: 0.5, Male: 0.5 } },
    }),
  ).rejects.toThrow(/target value for group "Male" is negative: -1/);
  await expect(attempt({ emaDecay: 1 })).rejects.toThrow(/emaDecay must be in \[0, 1\), got 1/);
  expect(Object.keys(weightsSync(m.unet)).some((k) => k.includes("lora"))).toBe(false);
  big.dispose();
  m.dispose();
  c.dispose();
}, 60_000);

test.each(["ddpm", "dpm-solver++"] as const)(
  "every allowed scheduler runs: %s (stochastic steps draw from the run's seed)",
  async (scheduler) => {
    const run = async () => {
      const m = model();
      const c = classifier();
      const options = base({ sex: { Female: 0.5, Male: 0.5 } });
      const events = await collectEvents(
        subgroupAlignedTuning(m, c, {
          ...options,
          steps: 2,
          sampler: { ...options.sampler, scheduler },
        }),
      );
      m.dispose();
      c.dispose();
      return stepEvents(events).map((e) => e.losses.total);
    };
    const losses = await run();
    expect(losses).toHaveLength(2);
    losses.forEach((loss) => expect(Number.isFinite(loss)).toBe(true));
    expect(await run()).toEqual(losses);
  },
);

test("an intersection's log-probabilities are the log of its joint probabilities, on the tape", () => {
  const c = alignmentClassifier();
  const [attribute] = resolveAlignmentAttributes(c, SEX_RACE_SIXTHS);
  expect(attribute.groups).toHaveLength(6);
  const n = 5;
  const before = tf.memory().numTensors;
  // Random per-head log-probabilities (log-softmax of random logits), indexed as the classifier's
  // heads: sex (2), race (3), Pleural Effusion (2).
  const logits = [2, 3, 2].map((k, h) => tf.randomNormal([n, k], 0, 2, "float32", 10 + h));
  const byHead = logits.map((l) => tf.logSoftmax(l) as tf.Tensor2D);
  const joint = attributeLogProbabilities(attribute, byHead);
  expect(joint.shape).toEqual([n, 6]);
  const expected = attributeProbabilities(
    attribute,
    tf.tidy(() => byHead.map((lp) => tf.exp(lp).dataSync())),
    n,
  );
  const got = joint.dataSync();
  expected.forEach((p, i) => expect(Math.abs(got[i] - Math.log(p))).toBeLessThan(1e-5));
  // A single attribute is its head's log-probabilities.
  const [race] = resolveAlignmentAttributes(c, { race: { Asian: 1, Black: 0, White: 0 } });
  expect(attributeLogProbabilities(race, byHead)).toBe(byHead[1]);
  // The gradient reaches both heads' logits.
  const weights = tf.randomNormal([n, 6], 0, 1, "float32", 20);
  const [dSex, dRace] = tf.grads((sex: tf.Tensor, race: tf.Tensor) =>
    tf.sum(
      tf.mul(
        weights,
        attributeLogProbabilities(attribute, [
          tf.logSoftmax(sex) as tf.Tensor2D,
          tf.logSoftmax(race) as tf.Tensor2D,
        ]),
      ),
    ),
  )([logits[0], logits[1]]);
  for (const d of [dSex, dRace]) {
    const values = Array.from(d.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.some((v) => Math.abs(v) > 1e-6)).toBe(true);
  }
  tf.dispose([...logits, ...byHead, joint, weights, dSex, dRace]);
  expect(tf.memory().numTensors).toBe(before);
  c.dispose();
});

test("a sex × race target: per-step joint proportions over six groups, no leaks", async () => {
  const c = alignmentClassifier();
  const before = tf.memory().numTensors;
  const m = model();
  const events = stepEvents(
    await collectEvents(
      subgroupAlignedTuning(m, c, { ...base(SEX_RACE_SIXTHS), steps: 2, confidenceWeight: 1 }),
    ),
  );
  expect(events).toHaveLength(2);
  for (const e of events) {
    const joint = (e.detail.batchProportions as Record<string, Record<string, number>>)["sex×race"];
    expect(Object.keys(joint)).toEqual(Object.keys(SEX_RACE_SIXTHS["sex×race"]));
    expect(Object.values(joint).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    expect(Number.isFinite(e.losses.distribution)).toBe(true);
    expect(e.losses.distribution).toBeGreaterThan(0);
    expect(Number.isFinite(e.losses.confidence)).toBe(true);
    expect(Number.isFinite(e.biasEstimate["sex×race"])).toBe(true);
    expect(Object.keys(e.target["sex×race"])).toHaveLength(6);
  }
  expect(m.info.subgroupTuning).toMatchObject({ target: SEX_RACE_SIXTHS });
  m.dispose();
  expect(tf.memory().numTensors).toBe(before);
  c.dispose();
}, 60_000);
