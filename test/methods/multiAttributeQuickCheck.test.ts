/**
 * Issue #24's reduced runs for CI: Method 1 on the shipped cxr-mini with prompted distillation
 * (UNet LoRA, no cross-entropy or semantic term, prior preservation —
 * docs/measurements/2026-12-06-distillation/), for STEPS steps instead of 200. Each must move a
 * seeded 64-image batch of the neutral effusion prompt toward the target by a stated margin
 * (race: the White share down by ≥ 0.10, measured 0.69 → 0.48; sex × race: the worst group's
 * gap down by ≥ 0.20, measured 0.52 → 0.16; the teacher at guidance 2, classifier-guided, and the assignment
 * steered by the model's measured shares, as by default), and
 * the race run must leave sex, which it does not target, where it was (within 0.10). Without
 * fine-tuning both differences are exactly 0.
 */
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import type { TargetDistributions } from "../../src/methods/methodEvents";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";

// A guard against a hang, not a speed goal: on a loaded two-core machine one check took > 400 s.
jest.setTimeout(1_200_000);

const MODELS = path.resolve(__dirname, "../../models");
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const IMAGES = 64;
const STEPS = 60;

/** Each image's arg-max group per head (sex, race), on a fixed seeded batch. */
async function groupsOf(model: LatentDiffusionModel, classifier: SubgroupClassifier) {
  const images = await generateImages(model, new Array<string>(IMAGES).fill(PROMPT), {
    seed: 77,
    steps: 10,
  });
  const predictions = await classifier.predict(images);
  images.dispose();
  const byHead = (name: string) => {
    const head = classifier.tasks.findIndex((t) => t.name === name);
    const classes = classifier.tasks[head].classes;
    const p = predictions[head].probabilities;
    return Array.from({ length: IMAGES }, (_, i) => {
      let best = 0;
      for (let g = 1; g < classes.length; g++) {
        if (p[i * classes.length + g] > p[i * classes.length + best]) best = g;
      }
      return classes[best];
    });
  };
  return { sex: byHead("sex"), race: byHead("race") };
}

const share = (labels: string[], group: string) =>
  labels.filter((l) => l === group).length / labels.length;

async function tune(target: TargetDistributions, steps: number) {
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(path.join(MODELS, "cxr-mini.fdckpt"));
  const classifier = SubgroupClassifier.load(path.join(MODELS, "cxr-classifier.fdckpt"));
  const before = await groupsOf(model, classifier);
  for await (const event of distributionalAlignment(model, classifier, {
    steps,
    seed: 3,
    prompts: [PROMPT],
    target: () => target,
    trainable: "unet-lora",
    learningRate: 1e-2,
    fairnessWeight: 0,
    semanticWeight: 0,
    distillWeight: 1,
    priorWeight: 1,
    // The documented command's teacher (docs/measurements/2026-12-07-teacher).
    teacherGuidanceScale: 2,
  })) {
    if (event.type === "step") expect(Number.isFinite(event.losses.total)).toBe(true);
  }
  const after = await groupsOf(model, classifier);
  model.dispose();
  classifier.dispose();
  return { before, after };
}

test(`race: ${STEPS} steps take the White share down by ≥ 0.10 and leave sex`, async () => {
  const { before, after } = await tune({ race: { Asian: 0.34, Black: 0.33, White: 0.33 } }, STEPS);
  const white = [share(before.race, "White"), share(after.race, "White")];
  console.log(`race quick check: White ${white[0]} → ${white[1]}`);
  expect(white[0] - white[1]).toBeGreaterThanOrEqual(0.1);
  expect(Math.abs(share(after.sex, "Male") - share(before.sex, "Male"))).toBeLessThanOrEqual(0.1);
});

/** The largest |share − 1/6| over the six sex × race groups. */
function worstSexRaceGap(groups: { sex: string[]; race: string[] }): number {
  let worst = 0;
  for (const sex of ["Female", "Male"]) {
    for (const race of ["Asian", "Black", "White"]) {
      const n = groups.sex.filter((s, i) => s === sex && groups.race[i] === race).length;
      worst = Math.max(worst, Math.abs(n / IMAGES - 1 / 6));
    }
  }
  return worst;
}

test(`sex × race: ${STEPS} steps narrow the worst group's gap by ≥ 0.20`, async () => {
  const sixths: Record<string, number> = {};
  for (const sex of ["Female", "Male"]) {
    for (const race of ["Asian", "Black", "White"]) sixths[`${sex}×${race}`] = 1 / 6;
  }
  const { before, after } = await tune({ "sex×race": sixths }, STEPS);
  const gaps = [worstSexRaceGap(before), worstSexRaceGap(after)];
  console.log(`sex × race quick check: worst gap ${gaps[0]} → ${gaps[1]}`);
  expect(gaps[0] - gaps[1]).toBeGreaterThanOrEqual(0.2);
});
