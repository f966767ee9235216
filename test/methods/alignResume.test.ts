/**
 * The distributional alignment loop on a tiny model and a tiny (untrained) classifier: no tensor
 * leaks across steps, same seed → same numbers, and a run resumed from its state file continues
 * exactly like an uninterrupted one.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import type { ClassificationTask } from "../../src/classifiers/classificationTask";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import {
  distributionalAlignment,
  type DistributionalAlignmentOptions,
} from "../../src/methods/distributionalAlignment";
import type { MethodEvent, MethodStepEvent } from "../../src/methods/methodEvents";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";
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

test("no tensor leaks across steps", async () => {
  const model = tinyModel();
  const run = distributionalAlignment(model, classifier, options({ steps: 6 }));
  const nextStep = async () => {
    for (;;) {
      const { value, done } = await run.next();
      if (done || value.type === "step") return;
    }
  };
  await expectNoTensorLeak(nextStep, { warmup: 2, steps: 3 });
  await run.return(undefined as never);
  model.dispose();
}, 120000);

test("same seed → same numbers; a run resumed from its state file matches an uninterrupted one", async () => {
  const lossesOf = (events: MethodEvent[]) => steps(events).map((e) => e.losses.total);
  const straightModel = tinyModel();
  const straight = await collect(straightModel, options({ steps: 3 }));

  // Same seed, stopped after two steps: the same numbers so far, and a state file.
  const stateFile = path.join(tmp, "resume.fdckpt");
  const controller = new AbortController();
  const firstModel = tinyModel();
  const first: MethodEvent[] = [];
  for await (const event of distributionalAlignment(
    firstModel,
    classifier,
    options({ steps: 3, stateFile, signal: controller.signal }),
  )) {
    first.push(event);
    if (event.type === "step" && event.step === 2) controller.abort();
  }
  expect(lossesOf(first)).toEqual(lossesOf(straight).slice(0, 2));
  expect(first[first.length - 1]).toMatchObject({ type: "done", steps: 2, aborted: true });
  expect(first.some((e) => e.type === "checkpoint" && e.file === stateFile)).toBe(true);
  firstModel.dispose();

  const resumedModel = tinyModel();
  const resumed = await collect(resumedModel, options({ steps: 3, stateFile }));
  expect(steps(resumed).map((e) => e.step)).toEqual([3]);
  expect(lossesOf(resumed)).toEqual(lossesOf(straight).slice(2));
  const a = straightModel.textEncoder.getWeightsSync();
  const b = resumedModel.textEncoder.getWeightsSync();
  for (const name of Object.keys(a)) expect(Array.from(b[name])).toEqual(Array.from(a[name]));
  // A state file from another run is refused, naming why.
  const otherModel = tinyModel();
  await expect(collect(otherModel, options({ steps: 4, seed: 8, stateFile }))).rejects.toThrow(
    /belongs to another run: seed 7 ≠ 8/,
  );
  straightModel.dispose();
  resumedModel.dispose();
  otherModel.dispose();
}, 180000);
