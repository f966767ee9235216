/**
 * The shipped default model, reduced version of its acceptance check: images generated for
 * prompts that name sex and findings show them, as judged by the shipped cohort classifier
 * (≥ 80 % pooled), and its vocabulary holds every word of every finding the classifier reads.
 * The full figure comes from `fairdiff evaluate`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { auditRepresentation, summarizeAdherence } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers";
import { chestFindingsPrompt } from "../../src/data/prompts";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";

const MODELS = path.resolve(__dirname, "../../models");

test("cxr-mini is shipped under 10 MB and draws the prompted sex and finding", async () => {
  const modelFile = path.join(MODELS, "cxr-mini.fdckpt");
  expect(fs.statSync(modelFile).size).toBeLessThan(10 * 1024 * 1024);
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(modelFile);
  const classifier = SubgroupClassifier.load(path.join(MODELS, "cxr-classifier.fdckpt"));
  expect(model.info.preset).toBe("cxr-mini");
  const findingHeads = classifier.tasks.filter((t) => t.kind === "finding").map((t) => t.name);
  expect(findingHeads).toEqual(["Pleural Effusion", "Cardiomegaly"]);
  for (const findings of [[], ...findingHeads.map((f) => [f])]) {
    expect(model.tokenizer.unknownWords(chestFindingsPrompt({ findings }))).toEqual([]);
  }
  const prompts = ["Female", "Male"].flatMap((sex) =>
    [[], ["Pleural Effusion"], ["Cardiomegaly"]].map((findings) =>
      chestFindingsPrompt({ sex, race: "White", findings }),
    ),
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
  expect(summary.attributes.sex.n).toBe(48);
  expect(summary.attributes.sex.estimate).toBeGreaterThanOrEqual(0.8);
  // Each finding is scored on the prompts that ask for it or for none.
  expect(summary.findings["Pleural Effusion"].n).toBe(32);
  expect(summary.findings["Pleural Effusion"].estimate).toBeGreaterThanOrEqual(0.8);
  expect(summary.findings.Cardiomegaly.n).toBe(32);
  expect(summary.findings.Cardiomegaly.estimate).toBeGreaterThanOrEqual(0.8);
  model.dispose();
  classifier.dispose();
}, 180000);
