/**
 * Distributional alignment on the shipped default model, reduced for CI: a few steps toward a
 * uniform sex target on the neutral Pleural Effusion prompt move the model's images toward the
 * group it under-represents — the sex head's mean logit margin toward that group on a fixed,
 * seeded evaluation batch rises. (The full figures — bias to ≤ 0.1, a 75/25 target — come from
 * `fairdiff finetune`; see the README.)
 */
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import type { MethodStepEvent } from "../../src/methods/methodEvents";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";

const MODELS = path.resolve(__dirname, "../../models");
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";

/** Per image, the sex head's logit margin log p(Female) − log p(Male) on seeded images. */
async function femaleMargins(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
): Promise<number[]> {
  const images = await generateImages(model, new Array<string>(8).fill(PROMPT), {
    seed: 31,
    steps: 8,
  });
  const head = classifier.tasks.findIndex((t) => t.name === "sex");
  const logits = (await classifier.logits(images))[head];
  images.dispose();
  const female = classifier.tasks[head].classes.indexOf("Female");
  return Array.from({ length: 8 }, (_, i) => logits[2 * i + female] - logits[2 * i + 1 - female]);
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

test("a few alignment steps move the default model toward its under-represented sex", async () => {
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(path.join(MODELS, "cxr-mini.fdckpt"));
  const classifier = SubgroupClassifier.load(path.join(MODELS, "cxr-classifier.fdckpt"));
  const before = await femaleMargins(model, classifier);
  // Toward the group the model draws less of for the neutral prompt: +1 female, −1 male.
  const direction = mean(before) < 0 ? 1 : -1;
  const steps: MethodStepEvent[] = [];
  for await (const event of distributionalAlignment(model, classifier, {
    steps: 4,
    seed: 3,
    prompts: [PROMPT],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: 4,
    sampler: { steps: 6 },
    learningRate: 3e-2,
    schedule: "constant",
  })) {
    if (event.type === "step") steps.push(event);
  }
  expect(steps).toHaveLength(4);
  expect(steps.every((e) => Number.isFinite(e.losses.total))).toBe(true);
  const after = await femaleMargins(model, classifier);
  // Raw logits (no clipping at tiny probabilities): the images move toward the minority.
  expect(direction * (mean(after) - mean(before))).toBeGreaterThan(0.5);
  model.dispose();
  classifier.dispose();
}, 180000);
