/**
 * The shipped default model, reduced version of its acceptance check: images generated for
 * prompts that name sex and pleural-effusion status show them, as judged by the shipped cohort
 * classifier (≥ 80 % pooled). The full figure comes from `fairdiff evaluate`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { auditRepresentation, summarizeAdherence } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers";
import { chexpertPrompt } from "../../src/data/prompts";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";

const MODELS = path.resolve(__dirname, "../../models");

test("cxr-mini is shipped under 10 MB and draws the prompted sex and finding", async () => {
  const modelFile = path.join(MODELS, "cxr-mini.fdckpt");
  expect(fs.statSync(modelFile).size).toBeLessThan(10 * 1024 * 1024);
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(modelFile);
  const classifier = SubgroupClassifier.load(path.join(MODELS, "cxr-classifier.fdckpt"));
  expect(model.info.preset).toBe("cxr-mini");
  const prompts = ["Female", "Male"].flatMap((sex) =>
    [false, true].map((positive) => chexpertPrompt({ sex, race: "White", positive })),
  );
  const results = await auditRepresentation(model, classifier, {
    prompts,
    imagesPerPrompt: 8,
    seed: 12,
    attributes: ["sex"],
    generation: { steps: 20 },
    resamples: 100,
  });
  const summary = summarizeAdherence(results);
  expect(summary.attributes.sex.n).toBe(32);
  expect(summary.attributes.sex.estimate).toBeGreaterThanOrEqual(0.8);
  expect(summary.findings["Pleural Effusion"].estimate).toBeGreaterThanOrEqual(0.8);
  model.dispose();
  classifier.dispose();
}, 180000);
