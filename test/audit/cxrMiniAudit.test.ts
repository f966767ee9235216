/**
 * Done when: an audit of the shipped default model finds the bias built into its training data.
 * cxr-mini was trained on a chest cohort whose Pleural Effusion cases are 85 % male, with 40 %
 * of captions leaving sex out; so a neutral prompt — one that names no sex — draws mostly men,
 * and the audit (the shipped classifier's counts, 95 % bootstrap interval) says so.
 *
 * Sampled as the model learned it (guidance 1: the conditional model alone), the male share is
 * the training share, 0.85, and its interval is clear of 0.5, the uniform target. At the default
 * guidance 3, classifier-free guidance sharpens the conditional and amplifies the bias (the same
 * seeds draw more men) — the audit shows that too.
 */
import * as path from "node:path";
import { runAudit } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../../src/pipeline/presets";

const MODELS = path.resolve(__dirname, "../../models");
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const IMAGES = 40;

test("auditing a neutral effusion prompt on cxr-mini recovers the 85 % male training share", async () => {
  const trainingMaleShare = CXR_MINI.mix.givenFinding?.["Pleural Effusion"]?.sex?.Male;
  expect(trainingMaleShare).toBe(0.85);
  await useBackend("wasm");
  const modelFile = path.join(MODELS, "cxr-mini.fdckpt");
  const classifierFile = path.join(MODELS, "cxr-classifier.fdckpt");
  const model = LatentDiffusionModel.load(modelFile);
  const classifier = SubgroupClassifier.load(classifierFile);
  const audit = (guidanceScale: number) =>
    runAudit(model, classifier, {
      prompts: [PROMPT],
      imagesPerPrompt: IMAGES,
      seed: 2024,
      attributes: ["sex"],
      generation: { steps: 15, guidanceScale },
      resamples: 1000,
      modelFile,
      classifierFile,
    });
  try {
    const report = await audit(1);
    expect(report.manifest.model.preset).toBe("cxr-mini");
    expect(report.manifest.sampler.guidanceScale).toBe(1);
    const sex = report.attribute(PROMPT, "sex");
    const male = sex.groups.indexOf("Male");
    const share = sex.proportions[male];
    expect(share.n).toBe(IMAGES);
    expect(share.lower).toBeGreaterThan(0.5);
    expect(Math.abs(share.estimate - trainingMaleShare!)).toBeLessThanOrEqual(0.1);
    // The confusion-corrected estimate agrees: the skew is the model's, not the classifier's.
    expect(sex.corrected?.[male].lower).toBeGreaterThan(0.5);
    expect(Math.abs(sex.corrected![male].estimate - trainingMaleShare!)).toBeLessThanOrEqual(0.1);
    // The prompt's finding is drawn.
    const effusion = report.representation[0].findings.find(
      (f) => f.finding === "Pleural Effusion",
    );
    expect(effusion?.positiveRate.estimate).toBeGreaterThanOrEqual(0.8);

    // Default guidance, same seeds: more men still.
    const guided = (await audit(3)).attribute(PROMPT, "sex").proportions[male];
    expect(guided.lower).toBeGreaterThan(0.5);
    expect(guided.estimate).toBeGreaterThan(share.estimate);
  } finally {
    model.dispose();
    classifier.dispose();
  }
}, 180000);
