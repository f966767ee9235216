/**
 * Done when: an audit of the shipped default model finds the bias built into its training data.
 * cxr-mini was trained on a chest cohort whose Pleural Effusion cases are 85 % male, with 40 %
 * of captions leaving sex out; so a neutral prompt — one that names no sex — should draw mostly
 * men, and the audit (the shipped classifier's counts, 95 % bootstrap interval) should say so:
 * the male share near 0.85, its interval clear of 0.5, the uniform target.
 */
import * as path from "node:path";
import { runAudit } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../../src/pipeline/presets";

const MODELS = path.resolve(__dirname, "../../models");
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";

test("auditing a neutral effusion prompt on cxr-mini recovers the 85 % male training share", async () => {
  const trainingMaleShare = CXR_MINI.mix.givenFinding?.["Pleural Effusion"]?.sex?.Male;
  expect(trainingMaleShare).toBe(0.85);
  await useBackend("wasm");
  const modelFile = path.join(MODELS, "cxr-mini.fdckpt");
  const classifierFile = path.join(MODELS, "cxr-classifier.fdckpt");
  const model = LatentDiffusionModel.load(modelFile);
  const classifier = SubgroupClassifier.load(classifierFile);
  try {
    const report = await runAudit(model, classifier, {
      prompts: [PROMPT],
      imagesPerPrompt: 48,
      seed: 2024,
      attributes: ["sex"],
      generation: { steps: 16 },
      resamples: 1000,
      modelFile,
      classifierFile,
    });
    const sex = report.attribute(PROMPT, "sex");
    const male = sex.groups.indexOf("Male");
    const share = sex.proportions[male];
    expect(share.n).toBe(48);
    expect(share.lower).toBeGreaterThan(0.5);
    expect(Math.abs(share.estimate - trainingMaleShare!)).toBeLessThanOrEqual(0.12);
    // The confusion-corrected estimate agrees: the skew is the model's, not the classifier's.
    expect(sex.corrected?.[male].lower).toBeGreaterThan(0.5);
    // And the effusion itself is drawn (the prompt asks for it).
    const effusion = report.representation[0].findings.find(
      (f) => f.finding === "Pleural Effusion",
    );
    expect(effusion?.positiveRate.estimate).toBeGreaterThanOrEqual(0.8);
    expect(report.manifest.model.preset).toBe("cxr-mini");
  } finally {
    model.dispose();
    classifier.dispose();
  }
}, 180000);
