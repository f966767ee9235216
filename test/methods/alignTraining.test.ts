/**
 * The distributional alignment loop on a tiny model and a tiny (untrained) classifier: events,
 * per-step targets read from the live getter, several attributes and intersections, the learnt
 * LoRA merged into the model at the end, and bad targets rejected naming the bad value before any
 * work. (Leaks, determinism and resume: alignResume.test.ts.)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { ClassificationTask } from "../../src/classifiers/classificationTask";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import {
  distributionalAlignment,
  type DistributionalAlignmentOptions,
} from "../../src/methods/distributionalAlignment";
import type {
  MethodEvent,
  MethodStepEvent,
  TargetDistributions,
} from "../../src/methods/methodEvents";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { PROMPTS } from "../models/tinyModels";

const CONFIG = {
  imageSize: 16,
  imageChannels: 1 as const,
  autoencoder: { blockChannels: [8, 8, 8], normGroups: 4, latentChannels: 4 },
  unet: {
    blockChannels: [8, 16],
    attentionLevels: [true, true],
    heads: 2,
    normGroups: 4,
    zeroInitResiduals: false,
  },
  textEncoder: { width: 8, layers: 1, heads: 2, mlpRatio: 2 },
};

const TASKS: ClassificationTask[] = [
  { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
  { name: "race", kind: "attribute", classes: ["Asian", "Black", "White"] },
  { name: "Pleural Effusion", kind: "finding", classes: ["absent", "present"] },
];

let classifier: SubgroupClassifier;
let tmp: string;

beforeAll(async () => {
  await useBackend("wasm");
  const network = new SubgroupClassifierNetwork(
    { imageSize: 16, imageChannels: 1, channels: [4, 8] },
    TASKS,
    5,
  );
  classifier = new SubgroupClassifier(network, [1, 1, 1]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-align-"));
});

afterAll(() => {
  classifier.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const tinyModel = () => LatentDiffusionModel.create(PROMPTS, CONFIG, 4);

function options(overrides: Partial<DistributionalAlignmentOptions> = {}) {
  return {
    steps: 2,
    seed: 7,
    prompts: [PROMPTS[0]],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: 4,
    samplingSteps: 3,
    learningRate: 1e-2,
    ...overrides,
  } satisfies DistributionalAlignmentOptions;
}

async function collect(
  model: LatentDiffusionModel,
  opts: DistributionalAlignmentOptions,
): Promise<MethodEvent[]> {
  const events: MethodEvent[] = [];
  for await (const event of distributionalAlignment(model, classifier, opts)) events.push(event);
  return events;
}

const steps = (events: MethodEvent[]) =>
  events.filter((e): e is MethodStepEvent => e.type === "step");

interface AttributeDetail {
  attribute: string;
  targets: number[];
}

test("emits step and done events; the tuned weights end up merged into the model", async () => {
  const model = tinyModel();
  const before = model.textEncoder.getWeightsSync();
  const events = await collect(model, options());
  const stepEvents = steps(events);
  expect(stepEvents.map((e) => e.step)).toEqual([1, 2]);
  for (const e of stepEvents) {
    expect(e.method).toBe("align");
    expect(Number.isFinite(e.losses.total)).toBe(true);
    expect(e.losses.total).toBeCloseTo(e.losses.fairness + e.losses.semantic, 4);
    expect(e.target).toEqual({ sex: { Female: 0.5, Male: 0.5 } });
    expect(e.biasEstimate.sex).toBeGreaterThanOrEqual(0);
    const detail = e.detail.attributes as AttributeDetail[];
    expect(detail[0].targets).toHaveLength(4);
  }
  expect(events[events.length - 1]).toMatchObject({ type: "done", steps: 2, aborted: false });
  // Plain model again (LoRA merged and removed), with changed text-encoder weights.
  const after = model.textEncoder.getWeightsSync();
  expect(Object.keys(after)).toEqual(Object.keys(before));
  const changed = Object.keys(before).some((name) =>
    after[name].some((v, i) => Math.abs(v - before[name][i]) > 1e-7),
  );
  expect(changed).toBe(true);
  model.dispose();
});

test("a target changed mid-run is used from the next step", async () => {
  const model = tinyModel();
  let target: TargetDistributions = { sex: { Female: 1, Male: 0 } };
  const seen: MethodStepEvent[] = [];
  for await (const event of distributionalAlignment(
    model,
    classifier,
    options({ steps: 3, target: () => target }),
  )) {
    if (event.type !== "step") continue;
    seen.push(event);
    if (event.step === 1) target = { sex: { Female: 0, Male: 1 } };
  }
  const targetsAt = (e: MethodStepEvent) => (e.detail.attributes as AttributeDetail[])[0].targets;
  // All-Female target: every image is sent to group 0; all-Male: to group 1.
  expect(targetsAt(seen[0])).toEqual([0, 0, 0, 0]);
  expect(seen[1].target).toEqual({ sex: { Female: 0, Male: 1 } });
  expect(targetsAt(seen[1])).toEqual([1, 1, 1, 1]);
  expect(targetsAt(seen[2])).toEqual([1, 1, 1, 1]);
  model.dispose();
});

test("several attributes and an intersection: one target set per attribute", async () => {
  const model = tinyModel();
  const events = steps(
    await collect(
      model,
      options({
        steps: 1,
        trainable: "unet-lora",
        target: () => ({
          race: { Asian: 1 / 3, Black: 1 / 3, White: 1 / 3 },
          "sex×race": {
            "Female×Asian": 0.5,
            "Female×Black": 0,
            "Female×White": 0,
            "Male×Asian": 0,
            "Male×Black": 0,
            "Male×White": 0.5,
          },
        }),
        targetDraws: 16,
      }),
    ),
  );
  const detail = events[0].detail.attributes as AttributeDetail[];
  expect(detail.map((d) => d.attribute)).toEqual(["race", "sex×race"]);
  // Only Female×Asian (0) and Male×White (5) are ever drawn.
  for (const t of detail[1].targets) expect([-1, 0, 5]).toContain(t);
  expect(Object.keys(events[0].biasEstimate)).toEqual(["race", "sex×race"]);
  model.dispose();
});

test("soft prompt tokens are trained and stay attached", async () => {
  // Same seed, same initial tokens: one step more must have moved them.
  const embeddingsAfter = async (stepCount: number) => {
    const model = tinyModel();
    const events = steps(
      await collect(model, options({ steps: stepCount, trainable: "soft-prompt" })),
    );
    expect(events).toHaveLength(stepCount);
    const soft = model.textEncoder.softPrompt;
    expect(soft?.tokens).toBe(5);
    const values = Array.from(soft?.embeddings.dataSync() ?? []);
    model.dispose();
    return values;
  };
  const one = await embeddingsAfter(1);
  const two = await embeddingsAfter(2);
  expect(one).toHaveLength(5 * 8);
  expect(Math.max(...one.map((v, i) => Math.abs(v - two[i])))).toBeGreaterThan(1e-3);
});

test("bad targets and options fail before any work, naming the value", async () => {
  const model = tinyModel();
  const tensorsBefore = tf.memory().numTensors;
  const bad: [TargetDistributions, RegExp][] = [
    [{ sex: { Female: 0.7, Male: 0.7 } }, /"sex" sums to 1.4/],
    [{ sex: { Female: 0.5, Man: 0.5 } }, /unknown group "Man"/],
    [{ gender: { Female: 0.5, Male: 0.5 } }, /attribute "gender"/],
    [{ "Pleural Effusion": { absent: 0.5, present: 0.5 } }, /"Pleural Effusion"/],
    [{}, /names no attribute/],
  ];
  for (const [target, message] of bad) {
    await expect(collect(model, options({ target: () => target }))).rejects.toThrow(message);
  }
  await expect(collect(model, options({ gradient: "approx" as never }))).rejects.toThrow(
    /gradient must be "adjusted" or "exact", got "approx"/,
  );
  await expect(collect(model, options({ batchSize: 1 }))).rejects.toThrow(/batchSize must be ≥ 2/);
  await expect(collect(model, options({ gradientSteps: 5 }))).rejects.toThrow(
    /gradientSteps \(5\) cannot exceed samplingSteps \(3\)/,
  );
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  // A target that turns bad mid-run stops the run with the same kind of error.
  let target: TargetDistributions = { sex: { Female: 0.5, Male: 0.5 } };
  const run = async () => {
    for await (const event of distributionalAlignment(
      model,
      classifier,
      options({ steps: 3, target: () => target }),
    )) {
      if (event.type === "step") target = { sex: { Female: 0.5, Male: 0.6 } };
    }
  };
  await expect(run()).rejects.toThrow(/sums to 1.1/);
  // The failed run leaves the model as it was given (no adapters left attached).
  const fresh = tinyModel();
  expect(model.textEncoder.parameters().length).toBe(fresh.textEncoder.parameters().length);
  fresh.dispose();
  model.dispose();
});
