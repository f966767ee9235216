/**
 * The toolkit the three methods share, piece by piece: the adapter vocabulary and lifecycle
 * (attach, variables by side, original, snapshot/restore, keep, drop), the shared option checks
 * with their messages, and the sampler options.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  TrainedAdapters,
  resolveAdapterOptions,
  type AdapterOptions,
} from "../../src/methods/adapters";
import { resolveMethodOptions, type MethodDefaults } from "../../src/methods/methodOptions";
import { resolveMethodSampler } from "../../src/methods/methodSampler";
import { resolveSubgroupOptions } from "../../src/methods/subgroupOptions";
import { encodeGuidance, guidedNoisePrediction } from "../../src/pipeline/guidedSampler";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { createRng } from "../../src/util/random";
import { weightsSync } from "../helpers/weights";
import { PROMPTS } from "../models/tinyModels";
import { expectSameWeights, textModel } from "./fixtures";

beforeAll(() => useBackend("wasm"));

const settings = (options: AdapterOptions) => resolveAdapterOptions(options, ["text-lora"]);

/** The guided noise prediction of `model` for one fixed input. */
function prediction(model: LatentDiffusionModel): Float32Array {
  return tf
    .tidy(() => {
      const context = encodeGuidance(model.textEncoder, [PROMPTS[0]]);
      const z = tf.randomNormal([1, 4, 4, 4], 0, 1, "float32", 3) as tf.Tensor4D;
      return guidedNoisePrediction(model.unet, z, 500, context, 3);
    })
    .dataSync() as Float32Array;
}

/** Moves every variable by `delta` (stands in for training). */
function nudge(variables: tf.Variable[], delta = 0.05): void {
  for (const v of variables) tf.tidy(() => v.assign(tf.add(v, delta)));
}

test("adapter options: one vocabulary, checked, refused naming the value", () => {
  expect(settings({})).toEqual({
    kinds: ["text-lora"],
    rank: 4,
    alpha: 4,
    softPromptTokens: 5,
    mergeAtEnd: true,
  });
  expect(settings({ trainable: "unet", rank: 2 }).kinds).toEqual(["unet"]);
  expect(() => settings({ trainable: "vae" as never })).toThrow(/trainable must be .*, got "vae"/);
  expect(() => settings({ trainable: ["text", "text-lora"] })).toThrow(
    /trainable must be "text-lora" or "text", not both/,
  );
  expect(() => settings({ trainable: ["unet", "unet"] })).toThrow(/without repeats/);
  expect(() => settings({ trainable: [] })).toThrow(/got \[\]/);
  expect(() => settings({ rank: 0 })).toThrow(/rank must be an integer ≥ 1, got 0/);
  expect(() => settings({ alpha: -1 })).toThrow(/alpha must be > 0, got -1/);
});

test("LoRA adapters: sides, the original through LoRA switched off, keep merges, drop leaves the model as given", async () => {
  const model = textModel();
  const given = { ...weightsSync(model.unet), ...weightsSync(model.textEncoder) };
  const before = prediction(model);
  const adapters = await TrainedAdapters.attach(
    model,
    settings({ trainable: ["unet-lora", "text-lora"], rank: 2 }),
    createRng(1),
  );
  expect(adapters.variables).toEqual([...adapters.unetVariables, ...adapters.textVariables]);
  expect(adapters.textVariables.length).toBeGreaterThan(0);
  expect(model.unet.parameters().filter((v) => v.trainable)).toEqual(adapters.unetVariables);
  const snapshot = await adapters.snapshot();
  nudge(adapters.variables);
  expect(prediction(model)).not.toEqual(before);
  expect(adapters.original((m) => prediction(m))).toEqual(before);
  adapters.restore(snapshot);
  expect(prediction(model)).toEqual(before);
  nudge(adapters.variables);
  adapters.drop();
  expectSameWeights(given, { ...weightsSync(model.unet), ...weightsSync(model.textEncoder) });
  // Every weight is trainable again, as it was given.
  expect(model.unet.parameters().every((v) => v.trainable)).toBe(true);

  const kept = await TrainedAdapters.attach(
    model,
    settings({ trainable: "unet-lora" }),
    createRng(1),
  );
  nudge(kept.variables);
  const tuned = prediction(model);
  kept.keep();
  expect(Object.keys(weightsSync(model.unet)).some((k) => k.includes("lora"))).toBe(false);
  // Merged: the same map up to float rounding (W + ΔW instead of x·W + x·ΔW).
  const merged = prediction(model);
  expect(Math.max(...merged.map((v, i) => Math.abs(v - tuned[i])))).toBeLessThan(1e-5);
  expect(merged).not.toEqual(before);
  model.dispose();
});

test("the UNet's own weights: a frozen copy is the original, drop restores them, keep keeps them", async () => {
  const model = textModel();
  const given = weightsSync(model.unet);
  const before = prediction(model);
  const dropped = await TrainedAdapters.attach(
    model,
    settings({ trainable: "unet" }),
    createRng(1),
    {
      keepOriginal: true,
    },
  );
  expect(dropped.variables).toEqual(model.unet.parameters());
  expect(dropped.textVariables).toEqual([]);
  nudge(dropped.variables);
  expect(dropped.original((m) => prediction(m))).toEqual(before);
  dropped.drop();
  expectSameWeights(given, weightsSync(model.unet));

  const kept = await TrainedAdapters.attach(model, settings({ trainable: "unet" }), createRng(1));
  expect(() => kept.original((m) => m)).toThrow(/keepOriginal/);
  nudge(kept.variables);
  kept.keep();
  expect(prediction(model)).not.toEqual(before);
  model.dispose();
});

test("a soft prompt: text side, dropped on failure, kept attached at the end", async () => {
  const model = textModel();
  const dropped = await TrainedAdapters.attach(
    model,
    settings({ trainable: "soft-prompt", softPromptTokens: 3 }),
    createRng(1),
  );
  expect(dropped.textVariables.map((v) => v.shape)).toEqual([[3, 8]]);
  dropped.drop();
  expect(model.textEncoder.softPrompt).toBeUndefined();
  const kept = await TrainedAdapters.attach(
    model,
    settings({ trainable: "soft-prompt" }),
    createRng(1),
  );
  kept.keep();
  expect(model.textEncoder.softPrompt?.tokens).toBe(5);
  model.dispose();
});

const DEFAULTS: MethodDefaults = {
  batchSize: 8,
  learningRate: (kinds) => (kinds.includes("unet") ? 2e-5 : 5e-4),
  weightDecay: 0,
  warmupSteps: (steps) => Math.ceil(steps / 10),
  trainable: ["text-lora"],
  prompted: true,
};

test("shared options: defaults resolved per method, every bad value named", () => {
  const base = { steps: 30, seed: 1, prompts: ["p"], target: { sex: { Female: 1 } } };
  const resolved = resolveMethodOptions(base, DEFAULTS);
  expect(resolved).toMatchObject({ batchSize: 8, learningRate: 5e-4, warmupSteps: 3 });
  expect(resolved.target?.()).toEqual({ sex: { Female: 1 } });
  expect(resolveMethodOptions({ ...base, trainable: "unet" }, DEFAULTS).learningRate).toBe(2e-5);
  const bad: [object, RegExp][] = [
    [{ seed: 1.5 }, /seed must be an integer, got 1.5/],
    [{ prompts: [] }, /prompts must be a list of at least one prompt, got \[\]/],
    [{ clipNorm: 0 }, /clipNorm must be > 0, got 0/],
    [{ warmupSteps: -1 }, /warmupSteps must be an integer ≥ 0, got -1/],
    [{ beta1: 1 }, /beta1 must be in \[0, 1\), got 1/],
    [{ emaDecay: 1 }, /emaDecay must be in \[0, 1\), got 1/],
    [{ schedule: "linear" }, /schedule must be "cosine" or "constant", got "linear"/],
    [{ checkpointEvery: 0 }, /checkpointEvery must be an integer ≥ 1, got 0/],
    [{ target: undefined }, /target must be attribute → group → probability/],
    // Renamed options are refused by name (notebook cells are not type-checked).
    [{ samplingSteps: 10 }, /samplingSteps is not an option .* use sampler: \{ steps \}/],
    [{ lora: { rank: 4 } }, /lora is not an option .* use rank \/ alpha \/ trainable/],
    [{ trainText: true }, /trainText is not an option .* use trainable: \["text", "unet"\]/],
  ];
  for (const [options, message] of bad) {
    expect(() => resolveMethodOptions({ ...base, ...options }, DEFAULTS)).toThrow(message);
  }
});

test("sampler options: one vocabulary, defaults resolved, every bad value named", () => {
  expect(resolveMethodSampler({})).toEqual({
    steps: 10,
    guidanceScale: 3,
    scheduler: "ddim",
    eta: undefined,
  });
  expect(resolveMethodSampler({ sampler: { steps: 4, guidanceScale: 2 } })).toMatchObject({
    steps: 4,
    guidanceScale: 2,
    scheduler: "ddim",
  });
  expect(() => resolveMethodSampler({ sampler: 4 as never })).toThrow(
    /sampler must be \{ steps, guidanceScale, scheduler, eta \}, got 4/,
  );
  expect(() =>
    resolveMethodSampler({ sampler: { scheduler: "ddpm" } }, { deterministicDdim: true }),
  ).toThrow(/sampler.scheduler must be "ddim", got "ddpm"/);
  expect(() =>
    resolveMethodSampler({ sampler: { eta: 0.5 } }, { deterministicDdim: true }),
  ).toThrow(/sampler.eta must be 0/);
  expect(() => resolveMethodSampler({ sampler: { steps: 0 } })).toThrow(
    /sampler.steps must be an integer ≥ 1, got 0/,
  );
});

test("Method 2 takes the shared adapter names: trainable, rank, alpha", () => {
  const base = { steps: 10, seed: 1, prompts: ["p"], target: { sex: { Female: 1 } } };
  expect(resolveSubgroupOptions(base).resolved.adapters).toMatchObject({
    kinds: ["unet-lora", "text-lora"],
    rank: 4,
    alpha: 4,
  });
  expect(resolveSubgroupOptions({ ...base, rank: 2 }).resolved.adapters).toMatchObject({
    kinds: ["unet-lora", "text-lora"],
    rank: 2,
    alpha: 2,
  });
  const unet = resolveSubgroupOptions({ ...base, trainable: "unet" }).resolved;
  expect(unet.adapters.kinds).toEqual(["unet"]);
  expect(unet.learningRate).toBe(2e-5);
  expect(() => resolveSubgroupOptions({ ...base, trainable: "lora" as never })).toThrow(
    /trainable must be "text-lora", "unet-lora", "soft-prompt", "text", "unet", or a list of them, got "lora"/,
  );
});
