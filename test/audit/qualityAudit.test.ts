/**
 * The quality audit end to end on the shipped default model: images generated from held-out real
 * images' own prompts, FID and KID (on by default) overall and per group with the project's
 * encoder (the default), ES-FID, clinical correlation — figures finite, named by their extractor, complete for every group,
 * repeatable with a seed, and no tensors left behind. Small n and few sampler steps: this checks
 * the machinery, not the model's quality (the figures come from `scripts/quality-figures.ts`).
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  auditQuality,
  heldOutRealSamples,
  requestedFinding,
  type QualityProgress,
} from "../../src/audit";
import { useBackend } from "../../src/backend";
import { DEFAULT_ENCODER_NAME } from "../../src/features";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../../src/pipeline/presets";

const MODEL = path.resolve(__dirname, "../../models/cxr-mini.fdckpt");

let model: LatentDiffusionModel;

beforeAll(async () => {
  await useBackend("wasm");
  model = LatentDiffusionModel.load(MODEL);
});

afterAll(() => model.dispose());

test("cxr-mini: finite figures for every sex and race group, ES-FID ≥ FID, repeatable", async () => {
  const real = heldOutRealSamples(CXR_MINI, { size: 40, seed: 31 });
  const progress: QualityProgress[] = [];
  const options = {
    real,
    seed: 5,
    generation: { steps: 4 },
    minGroupImages: 3,
    clinical: { epochs: 4, resamples: 100 },
  };
  const before = tf.memory().numTensors;
  const first = await auditQuality(model, {
    ...options,
    onProgress: (p: QualityProgress) => progress.push(p),
  });
  expect(tf.memory().numTensors).toBe(before);
  const again = await auditQuality(model, options);

  expect(first.extractor).toMatchObject({ name: DEFAULT_ENCODER_NAME, kind: "project-encoder" });
  expect(first.overall).toMatchObject({ nGenerated: 40, nReal: 40 });
  expect(Number.isFinite(first.overall.value)).toBe(true);
  expect(first.overall.value).toBeGreaterThan(0);
  expect(first.overallKid).toMatchObject({ nGenerated: 40, nReal: 40, subsets: 100 });
  expect(Number.isFinite(first.overallKid!.value)).toBe(true);
  expect(first.overallKid!.interval!.lower).toBeLessThan(first.overallKid!.interval!.upper);
  // Prompts name sex and race (not age band), so those are the attributes audited.
  expect(first.byAttribute.map((a) => a.attribute).sort()).toEqual(["race", "sex"]);
  for (const quality of first.byAttribute) {
    const expectedGroups =
      quality.attribute === "sex" ? ["Female", "Male"] : ["Asian", "Black", "White"];
    expect(quality.groups).toEqual(expectedGroups);
    quality.perGroup.forEach((figure, k) => {
      const group = quality.groups[k];
      const inGroup = real.filter((s) => s.attributes[quality.attribute] === group).length;
      // One generated image per real image, from its prompt: the group sizes match.
      expect(figure).toMatchObject({ nGenerated: inGroup, nReal: inGroup });
      expect(Number.isFinite(figure.value)).toBe(true);
      // KID beside it, on the same images.
      expect(quality.perGroupKid![k]).toMatchObject({ nGenerated: inGroup, nReal: inGroup });
      expect(Number.isFinite(quality.perGroupKid![k].value)).toBe(true);
    });
    expect(quality.esFid).toBeGreaterThanOrEqual(first.overall.value);
  }
  const [clinical] = first.clinical!;
  expect(clinical.finding).toBe("Pleural Effusion");
  // Generated images are labelled by their prompts: a "diagnosed with Cardiomegaly" caption does
  // not say whether there is an effusion, so those images sit out; every real image counts.
  const stated = real.filter((s) => requestedFinding(s.prompt, "Pleural Effusion") !== undefined);
  expect(stated.length).toBeLessThan(40);
  expect(clinical).toMatchObject({ nTrainGenerated: stated.length, nTestReal: 40 });
  expect(clinical.auc).toBeGreaterThanOrEqual(0);
  expect(clinical.auc).toBeLessThanOrEqual(1);

  const { elapsedMs: _a, ...firstFigures } = first;
  const { elapsedMs: _b, ...againFigures } = again;
  expect(againFigures).toEqual(firstFigures);
  expect(progress.filter((p) => p.stage === "generating").at(-1)).toEqual({
    stage: "generating",
    done: 40,
    total: 40,
  });
  expect(progress.at(-1)).toEqual({ stage: "clinical", done: 1, total: 1 });

  // Another seed draws other images: other figures.
  const other = await auditQuality(model, { ...options, seed: 6, clinical: undefined });
  expect(other.overall.value).not.toBe(first.overall.value);
}, 240_000);

test("an aborted audit stops with a clear error and frees its tensors", async () => {
  const real = heldOutRealSamples(CXR_MINI, { size: 8, seed: 32 });
  const controller = new AbortController();
  const before = tf.memory().numTensors;
  const run = auditQuality(model, {
    real,
    seed: 1,
    generation: { steps: 2, batchSize: 4 },
    signal: controller.signal,
    onProgress: () => controller.abort(),
  });
  await expect(run).rejects.toThrow(/aborted/);
  expect(tf.memory().numTensors).toBe(before);
  expect(() => heldOutRealSamples(CXR_MINI, { size: 4, seed: CXR_MINI.cohortSeed })).toThrow(
    /held-out seed 2024 is the cxr-mini training cohort's seed/,
  );
});
