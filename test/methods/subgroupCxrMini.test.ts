/**
 * The cheap CI version of method 2's done-when on the shipped model and classifier: a few tuning
 * steps toward a target that favours the group the model under-produces (women, on the neutral
 * effusion prompt) move the classifier's Female−Male logit margin on a fixed set of images (same
 * seeds before and after) by several units; measured −14.9 → −2.5 in 10 steps. The full
 * measurement (audited proportions within ±0.07 of a target dataset's) is
 * scripts/subgroup-tuning.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { subgroupAlignedTuning } from "../../src/methods/subgroupAlignedTuning";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";

const MODEL = path.join(__dirname, "../../models/cxr-mini.fdckpt");
const CLASSIFIER = path.join(__dirname, "../../models/cxr-classifier.fdckpt");
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const shipped = fs.existsSync(MODEL) && fs.existsSync(CLASSIFIER);

beforeAll(() => useBackend("wasm"));

/**
 * Over 16 fixed-seed images (10 DDIM steps): each sex's share of arg-max predictions, and the
 * mean logit margin of Female over Male — a probability saturates near 0 on this biased prompt,
 * the margin keeps moving.
 */
async function sexReadout(model: LatentDiffusionModel, classifier: SubgroupClassifier) {
  const images = await generateImages(model, new Array<string>(16).fill(PROMPT), {
    seed: 5,
    steps: 10,
  });
  try {
    const h = classifier.tasks.findIndex((t) => t.name === "sex");
    if (h < 0) throw new Error("the shipped classifier has no sex head");
    const classes = classifier.tasks[h].classes;
    const logits = (await classifier.logits(images))[h];
    const female = classes.indexOf("Female");
    let margin = 0;
    for (let i = 0; i < 16; i++) margin += logits[i * 2 + female] - logits[i * 2 + (1 - female)];
    return { classes, femaleMargin: margin / 16 };
  } finally {
    tf.dispose(images);
  }
}

(shipped ? test : test.skip)(
  "tuning cxr-mini toward women moves its images' Female logit margin by several units",
  async () => {
    const model = LatentDiffusionModel.load(MODEL);
    const classifier = SubgroupClassifier.load(CLASSIFIER);
    const before = await sexReadout(model, classifier);
    // The model under-produces women on this prompt (85 % of its effusion cases were men).
    expect(before.femaleMargin).toBeLessThan(0);
    const target = { sex: { Female: 0.9, Male: 0.1 } };
    let steps = 0;
    for await (const e of subgroupAlignedTuning(model, classifier, {
      steps: 10,
      seed: 3,
      prompts: [PROMPT],
      target: () => target,
      batchSize: 8,
      sampler: { steps: 6 },
      learningRate: 1e-2,
    })) {
      if (e.type === "step") steps++;
    }
    expect(steps).toBe(10);
    const after = await sexReadout(model, classifier);
    console.log(
      `cxr-mini mean Female−Male logit margin on 16 fixed images: ${before.femaleMargin.toFixed(2)} → ${after.femaleMargin.toFixed(2)}`,
    );
    // A real move, not noise: several logit units toward the target.
    expect(after.femaleMargin - before.femaleMargin).toBeGreaterThan(3);
    model.dispose();
    classifier.dispose();
  },
  240_000,
);
