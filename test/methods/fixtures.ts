/**
 * Shared set-up of the mitigation-method tests: a tiny text-to-latent model whose text matters,
 * a tiny untrained subgroup classifier for it, the alignment run's small options, event
 * collection, and the checks a resumed run is held to.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { ClassificationTask } from "../../src/classifiers/classificationTask";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { SubgroupClassifierNetwork } from "../../src/classifiers/subgroupClassifierNetwork";
import { guidanceBatch, nullPromptEmbedding } from "../../src/models/classifierFreeGuidance";
import {
  distributionalAlignment,
  type DistributionalAlignmentOptions,
} from "../../src/methods/distributionalAlignment";
import { TrainedAdapters, resolveAdapterOptions } from "../../src/methods/adapters";
import { guidedDenoiser } from "../../src/methods/guidedDenoiser";
import type { MethodEvent, MethodStepEvent } from "../../src/methods/methodEvents";
import type { ChainDenoiser } from "../../src/methods/samplingChainGradient";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { initialLatents } from "../../src/pipeline/textToImage";
import { createRng } from "../../src/util/random";
import { PROMPTS } from "../models/tinyModels";

/** A small text-to-latent model whose text matters (no zero-initialised residual outputs). */
export const TEXT_MODEL_CONFIG = {
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

/** The same weights on every call (seeded). */
export const textModel = () => LatentDiffusionModel.create(PROMPTS, TEXT_MODEL_CONFIG, 4);

/** Two attribute heads (one with three groups) and a finding head, for the alignment tests. */
export const ALIGNMENT_TASKS: ClassificationTask[] = [
  { name: "sex", kind: "attribute", classes: ["Female", "Male"] },
  { name: "race", kind: "attribute", classes: ["Asian", "Black", "White"] },
  { name: "Pleural Effusion", kind: "finding", classes: ["absent", "present"] },
];

/** An untrained classifier of `ALIGNMENT_TASKS` for `textModel`'s 16×16 images. */
export function alignmentClassifier(): SubgroupClassifier {
  const network = new SubgroupClassifierNetwork(
    { imageSize: 16, imageChannels: 1, channels: [4, 8] },
    ALIGNMENT_TASKS,
    5,
  );
  return new SubgroupClassifier(network, [1, 1, 1]);
}

/** The sex × race target with all six intersections at 1/6. */
export const SEX_RACE_SIXTHS = {
  "sex×race": Object.fromEntries(
    ["Female", "Male"].flatMap((s) => ["Asian", "Black", "White"].map((r) => [`${s}×${r}`, 1 / 6])),
  ),
};

/** UNet LoRA (rank 2) on `model`, the original kept for the terms that compare with it. */
export function unetLoraKeepingOriginal(model: LatentDiffusionModel): Promise<TrainedAdapters> {
  return TrainedAdapters.attach(
    model,
    resolveAdapterOptions({ trainable: "unet-lora", rank: 2 }, ["text-lora"]),
    createRng(1),
    { keepOriginal: true },
  );
}

/** The same heads and an age band, which the chest prompts cannot name (untrained). */
export function alignmentClassifierWithAge(): SubgroupClassifier {
  const network = new SubgroupClassifierNetwork(
    { imageSize: 16, imageChannels: 1, channels: [4] },
    [
      ...ALIGNMENT_TASKS,
      { name: "ageBand", kind: "attribute", classes: ["18-39", "40-64", "65+"] },
    ],
    5,
  );
  return new SubgroupClassifier(network, [1, 1, 1, 1]);
}

/** A two-step alignment run small enough for a unit test. */
export function alignmentOptions(overrides: Partial<DistributionalAlignmentOptions> = {}) {
  return {
    steps: 2,
    seed: 7,
    prompts: [PROMPTS[0]],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: 4,
    sampler: { steps: 3 },
    learningRate: 1e-2,
    ...overrides,
  } satisfies DistributionalAlignmentOptions;
}

/** Three steps of Method 1 from `prompt` toward uniform race on a UNet LoRA, plus `overrides`. */
export function raceUnetLoraOptions(
  prompt: string,
  overrides: Partial<DistributionalAlignmentOptions> = {},
) {
  return alignmentOptions({
    prompts: [prompt],
    target: () => ({ race: { Asian: 0.34, Black: 0.33, White: 0.33 } }),
    trainable: "unet-lora",
    steps: 3,
    ...overrides,
  });
}

/** What an alignment test file shares: the classifier, a scratch folder, a run's events. */
export interface AlignmentTestBed {
  classifier: SubgroupClassifier;
  dir: string;
  collect(
    model: LatentDiffusionModel,
    options: DistributionalAlignmentOptions,
  ): Promise<MethodEvent[]>;
}

/** Registers the file's hooks: wasm backend, the classifier and the folder, freed after all tests. */
export function alignmentTestBed(): AlignmentTestBed {
  const bed = {
    collect: (model, options) =>
      collectEvents(distributionalAlignment(model, bed.classifier, options)),
  } as AlignmentTestBed;
  beforeAll(async () => {
    await useBackend("wasm");
    bed.classifier = alignmentClassifier();
    bed.dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-align-"));
  });
  afterAll(() => {
    bed.classifier.dispose();
    fs.rmSync(bed.dir, { recursive: true, force: true });
  });
  return bed;
}

/** Every event of a run, in order. */
export async function collectEvents(
  run: AsyncGenerator<MethodEvent, unknown>,
): Promise<MethodEvent[]> {
  const events: MethodEvent[] = [];
  for await (const event of run) events.push(event);
  return events;
}

export const stepEvents = (events: MethodEvent[]) =>
  events.filter((e): e is MethodStepEvent => e.type === "step");

/** A resumed run must end with exactly the weights of an uninterrupted one. */
export function expectSameWeights(
  straight: Record<string, Float32Array>,
  resumed: Record<string, Float32Array>,
): void {
  expect(Object.keys(resumed)).toEqual(Object.keys(straight));
  for (const name of Object.keys(straight)) {
    expect(Array.from(resumed[name])).toEqual(Array.from(straight[name]));
  }
}

/** What a sampling-chain gradient test runs: start noise, guidance context, a seeded cotangent. */
export interface ChainSetup {
  start: tf.Tensor4D;
  conditioning: tf.Tensor3D;
  denoiser: ChainDenoiser;
  cotangent: tf.Tensor4D;
  dispose(): void;
}

/** What a chain-gradient test file shares: one `textModel` and its `chainSetup`. */
export interface ChainTestBed {
  model: LatentDiffusionModel;
  setup(batch: number, variables?: tf.Variable[]): ChainSetup;
}

/** Registers the file's hooks: wasm backend and the model, freed after all tests. */
export function chainTestBed(): ChainTestBed {
  const bed = {
    setup: (batch, variables) => chainSetup(bed.model, batch, variables),
  } as ChainTestBed;
  beforeAll(async () => {
    await useBackend("wasm");
    bed.model = textModel();
  });
  afterAll(() => bed.model.dispose());
  return bed;
}

/** `batch` prompts through `model`'s guided denoiser (scale 3), differentiating `variables`. */
export function chainSetup(
  model: LatentDiffusionModel,
  batch: number,
  variables: tf.Variable[] = [],
): ChainSetup {
  const prompts = PROMPTS.slice(0, batch);
  const cond = model.textEncoder.encode(prompts);
  const uncond = nullPromptEmbedding(model.textEncoder, batch);
  const context = guidanceBatch(cond, uncond);
  tf.dispose([cond.embeddings, cond.mask, uncond.embeddings, uncond.mask]);
  const start = initialLatents(model, 3, 0, batch);
  const rng = createRng(8);
  const cotangent = tf.tidy(() =>
    tf.tensor4d(
      Float32Array.from({ length: start.size }, () => rng.normal()),
      start.shape,
    ),
  );
  return {
    start,
    conditioning: context.embeddings,
    denoiser: guidedDenoiser(model.unet, context.mask, 3, variables),
    cotangent,
    dispose: () => tf.dispose([start, context.embeddings, context.mask, cotangent]),
  };
}
