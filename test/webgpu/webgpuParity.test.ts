/**
 * The WebGPU path, run for real: each computation runs seeded on wasm, then the same seeded
 * computation on WebGPU, and the two must agree. On CI the adapter is Mesa 25's lavapipe
 * (bookworm-backports): a software Vulkan device, so this checks correctness, not speed.
 * Reads use `await data()` only: a synchronous read would fail on WebGPU under Node.
 */
import * as tf from "@tensorflow/tfjs-core";
import { auditRepresentation } from "../../src/audit/representationAudit";
import { backendInfo, inspectWebgpuAdapterSync, useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { defineAttribute } from "../../src/data/subgroups";
import { shippedModelPath } from "../../src/features";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import { fairBayesianPerturbation } from "../../src/methods/fairBayesianPerturbation";
import { labelledExamples } from "../../src/methods/labelledExamples";
import type { MethodEvent, MethodStepEvent } from "../../src/methods/methodEvents";
import { subgroupAlignedTuning } from "../../src/methods/subgroupAlignedTuning";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";
import { autoencoderTraining } from "../../src/pipeline/trainAutoencoder";
import { denoiserTraining } from "../../src/pipeline/trainDenoiser";
import type { TrainingEvent, TrainingStepEvent } from "../../src/pipeline/trainingEvents";
import { maxAbsDiff } from "../helpers/backends";
import { testWhen } from "../helpers/requirements";
import { alignmentClassifier, alignmentOptions, textModel } from "../methods/fixtures";
import { TINY_CONFIG, tinyExamples, tinyModel } from "../pipeline/tinyModel";

jest.setTimeout(5 * 60_000);

const LAVAPIPE =
  "a WebGPU adapter: Mesa 25 lavapipe from bookworm-backports (mesa-vulkan-drivers, libvulkan1)";
const webgpuTest = testWhen(inspectWebgpuAdapterSync().available, LAVAPIPE);

/** Runs `compute` on wasm, then on WebGPU; returns both results. */
async function onWasmThenWebgpu<T>(compute: () => Promise<T>): Promise<{ wasm: T; webgpu: T }> {
  await useBackend("wasm");
  const wasm = await compute();
  await useBackend("webgpu");
  expect(backendInfo().name).toBe("webgpu");
  try {
    return { wasm, webgpu: await compute() };
  } finally {
    await useBackend("wasm");
  }
}

/** Relative difference for values above 1, absolute below (a loss term may sit at ~1e-6). */
function scaledDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(a));
}

/** Every parameter's values, in order. */
async function weightsOf(model: { namedParameters(): [string, tf.Variable][] }) {
  const out: Float32Array[] = [];
  for (const [, v] of model.namedParameters()) out.push((await v.data()) as Float32Array);
  return out;
}

function maxWeightDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((w, i) => maxAbsDiff(w, b[i])));
}

/** One method step: every loss term and every tuned weight agree across the two backends. */
function expectSameStep(
  wasm: { losses: Record<string, number>; weights: Float32Array[] },
  webgpu: { losses: Record<string, number>; weights: Float32Array[] },
): void {
  for (const [term, value] of Object.entries(wasm.losses)) {
    expect([term, scaledDiff(value, webgpu.losses[term]) <= 1e-4]).toEqual([term, true]);
  }
  expect(maxWeightDiff(wasm.weights, webgpu.weights)).toBeLessThanOrEqual(1e-4);
}

const trainingSteps = (events: TrainingEvent[]) =>
  events.filter((e): e is TrainingStepEvent => e.kind === "step");
const methodSteps = (events: MethodEvent[]) =>
  events.filter((e): e is MethodStepEvent => e.type === "step");

async function collect<E>(run: AsyncGenerator<E, unknown>): Promise<E[]> {
  const events: E[] = [];
  for await (const event of run) events.push(event);
  return events;
}

webgpuTest("AddN over more inputs than a shader can bind matches wasm (≤ 1e-4)", async () => {
  const terms = Array.from({ length: 20 }, (_, i) =>
    Float32Array.from({ length: 33 }, (_, j) => (i + 1) * Math.cos(j)),
  );
  // Σ_i (i + 1)·cos j = 210·cos j.
  const expected = Float32Array.from({ length: 33 }, (_, j) => 210 * Math.cos(j));
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const sum = tf.tidy(() => tf.addN(terms.map((t) => tf.tensor1d(t))));
    const values = await sum.data();
    sum.dispose();
    return values;
  });
  expect(maxAbsDiff(wasm, webgpu)).toBeLessThanOrEqual(1e-4);
  // Not a silently empty result (tfjs-webgpu's own AddN returns zeros past the binding limit).
  expect(maxAbsDiff(expected, webgpu)).toBeLessThanOrEqual(1e-3);
});

webgpuTest("autoencoder and denoiser training steps match wasm", async () => {
  const examples = tinyExamples(16);
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = tinyModel(examples, 3);
    const options = { steps: 2, seed: 4, batchSize: 4, replicas: 1 };
    const autoencoder = trainingSteps(await collect(autoencoderTraining(model, examples, options)));
    const denoiser = trainingSteps(await collect(denoiserTraining(model, examples, options)));
    const weights = await weightsOf(model.unet);
    const tensorsAfter = tf.memory().numTensors;
    model.dispose();
    return { autoencoder, denoiser, weights, tensorsAfter };
  });
  for (const stage of ["autoencoder", "denoiser"] as const) {
    expect(webgpu[stage]).toHaveLength(2);
    webgpu[stage].forEach((step, i) => {
      expect(scaledDiff(wasm[stage][i].loss, step.loss)).toBeLessThanOrEqual(1e-4);
      expect(scaledDiff(wasm[stage][i].gradientNorm, step.gradientNorm)).toBeLessThanOrEqual(1e-4);
    });
  }
  expect(maxWeightDiff(wasm.weights, webgpu.weights)).toBeLessThanOrEqual(1e-4);
});

webgpuTest("generation with the shipped cxr-mini matches wasm image for image", async () => {
  const prompts = [
    "Chest Radiography image of a Female White patient diagnosed with Pleural Effusion",
    "Chest Radiography image of a Male Black patient with No Finding",
  ];
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = LatentDiffusionModel.load(shippedModelPath("cxr-mini.fdckpt"));
    const images = await generateImages(model, prompts, { seed: 5, steps: 4, guidanceScale: 3 });
    const values = await images.data();
    images.dispose();
    model.dispose();
    return values;
  });
  expect(maxAbsDiff(wasm, webgpu)).toBeLessThanOrEqual(1e-4);
});

webgpuTest("an audit of the shipped model gives the same counts on WebGPU as on wasm", async () => {
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = LatentDiffusionModel.load(shippedModelPath("cxr-mini.fdckpt"));
    const classifier = SubgroupClassifier.load(shippedModelPath("cxr-classifier.fdckpt"));
    const audit = await auditRepresentation(model, classifier, {
      prompts: ["Chest Radiography image of a patient diagnosed with Pleural Effusion"],
      imagesPerPrompt: 8,
      seed: 2,
      generation: { steps: 4 },
      resamples: 50,
    });
    model.dispose();
    classifier.dispose();
    return audit.flatMap((p) => p.attributes.map((a) => [a.attribute, a.counts]));
  });
  expect(webgpu.length).toBeGreaterThan(0);
  expect(webgpu).toEqual(wasm);
});

webgpuTest("one step of Method 1 (distributional alignment) matches wasm", async () => {
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = textModel();
    const classifier = alignmentClassifier();
    const events = await collect(
      distributionalAlignment(model, classifier, alignmentOptions({ steps: 1 })),
    );
    const weights = await weightsOf(model.textEncoder);
    model.dispose();
    classifier.dispose();
    return { losses: methodSteps(events)[0].losses, weights };
  });
  expectSameStep(wasm, webgpu);
});

webgpuTest("one step of Method 2 (subgroup-aligned tuning) matches wasm", async () => {
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = LatentDiffusionModel.load(shippedModelPath("cxr-mini.fdckpt"));
    const classifier = SubgroupClassifier.load(shippedModelPath("cxr-classifier.fdckpt"));
    const events = await collect(
      subgroupAlignedTuning(model, classifier, {
        steps: 1,
        seed: 1,
        prompts: ["Chest Radiography image of a patient diagnosed with Pleural Effusion"],
        target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
        batchSize: 2,
        sampler: { steps: 2 },
      }),
    );
    const weights = await weightsOf(model.unet);
    model.dispose();
    classifier.dispose();
    return { losses: methodSteps(events)[0].losses, weights };
  });
  expectSameStep(wasm, webgpu);
});

webgpuTest("one step of Method 3 (fair Bayesian perturbation) matches wasm", async () => {
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 16, seed: 1, imageSize: 16 });
  const examples = labelledExamples(cohort.records.map((_, i) => cohort.sampleAt(i)));
  const sex = defineAttribute("sex", ["Female", "Male"]);
  const { wasm, webgpu } = await onWasmThenWebgpu(async () => {
    const model = LatentDiffusionModel.create(
      examples.map((e) => e.prompt),
      TINY_CONFIG,
      3,
    );
    const events = await collect(
      fairBayesianPerturbation(model, {
        examples,
        attributes: [sex],
        steps: 1,
        seed: 2,
        batchSize: 8,
        every: 2,
        learningRate: 1e-3,
      }),
    );
    const weights = await weightsOf(model.unet);
    model.dispose();
    return { losses: methodSteps(events)[0].losses, weights };
  });
  expectSameStep(wasm, webgpu);
});
