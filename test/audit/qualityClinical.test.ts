/**
 * Clinical semantic correlation: a finding classifier trained only on "generated" images and
 * tested on real ones. A generator whose images show the finding they were prompted for (here:
 * a second draw of the real cohort, labelled by its prompts) scores a high AUC on real images; one
 * whose images ignore the prompt (the same images under shuffled prompts) scores near chance.
 */
import {
  clinicalCorrelation,
  heldOutRealSamples,
  labelledImagesFromPrompts,
  labelledImagesFromSamples,
} from "../../src/audit";
import { useBackend } from "../../src/backend";
import { cohortDefinition } from "../../src/data/cohorts/syntheticCohort";
import type { RasterImage } from "../../src/io/rasterImage";
import { CXR_MINI } from "../../src/pipeline/presets";
import { createRng } from "../../src/util/random";

const N = 96;
const attributes = cohortDefinition("cxr").attributes.filter((a) => a.name !== "ageBand");
const real = labelledImagesFromSamples(heldOutRealSamples(CXR_MINI, { size: N, seed: 201 }));
const drawn = heldOutRealSamples(CXR_MINI, { size: N, seed: 202 });
const faithful = labelledImagesFromPrompts(
  drawn.map((s) => s.image),
  drawn.map((s) => s.prompt),
  attributes,
  ["Pleural Effusion"],
);
const shuffledPrompts = createRng(3).shuffle(drawn.map((s) => s.prompt));
const ignoresPrompt = labelledImagesFromPrompts(
  drawn.map((s) => s.image),
  shuffledPrompts,
  attributes,
  ["Pleural Effusion"],
);

function input(generated: typeof faithful) {
  return {
    generated: { images: generated.images as RasterImage[], labels: generated.labels },
    real: {
      images: real.images as RasterImage[],
      labels: real.labels,
      attributes: real.attributes,
    },
    attributes,
  };
}

beforeAll(async () => {
  await useBackend("wasm");
});

test("images that show the prompted finding transfer to real images; images that ignore it do not", async () => {
  const options = { seed: 4, epochs: 12, resamples: 200 };
  const [good] = await clinicalCorrelation(input(faithful), options);
  const [bad] = await clinicalCorrelation(input(ignoresPrompt), options);
  console.log(
    `AUC on real images: faithful generator ${good.auc.toFixed(3)} [${good.aucInterval?.lower.toFixed(3)}, ${good.aucInterval?.upper.toFixed(3)}], ` +
      `prompt-ignoring generator ${bad.auc.toFixed(3)}`,
  );
  expect(good.finding).toBe("Pleural Effusion");
  // A "diagnosed with Cardiomegaly" caption does not say whether there is an effusion: those
  // generated images sit out of training; every real image is tested.
  const stated = faithful.labels.filter((l) => l["Pleural Effusion"] !== undefined).length;
  expect(stated).toBeLessThan(N);
  expect(good).toMatchObject({ nTrainGenerated: stated, nTestReal: N });
  expect(good.auc).toBeGreaterThan(0.8);
  expect(bad.auc).toBeLessThan(0.7);
  expect(good.auc - bad.auc).toBeGreaterThan(0.2);
  expect(good.aucInterval!.lower).toBeLessThanOrEqual(good.auc);
  expect(good.aucInterval!.upper).toBeGreaterThanOrEqual(good.auc);

  // Per group: one AUC per group with its size, and ES-AUC = AUC / (1 + Σ|AUC_g − AUC|).
  const race = good.byAttribute.find((a) => a.attribute === "race")!;
  expect(race.groups).toEqual(["Asian", "Black", "White"]);
  expect(race.n.reduce((a, b) => a + b, 0)).toBe(N);
  const finite = race.auc.filter((v) => Number.isFinite(v));
  const spread = finite.reduce((s, v) => s + Math.abs(v - good.auc), 0);
  expect(race.esAuc).toBeCloseTo(good.auc / (1 + spread), 12);
  expect(race.esAuc).toBeLessThanOrEqual(good.auc);

  // Same seed, same figures.
  const [again] = await clinicalCorrelation(input(faithful), options);
  expect(again).toEqual(good);
});

test("a finding the prompts never vary, or no shared finding, is reported, not guessed", async () => {
  const allPositive = {
    ...faithful,
    labels: faithful.labels.map(() => ({ "Pleural Effusion": 1 })),
  };
  const [result] = await clinicalCorrelation(input(allPositive), { seed: 1 });
  expect(result.auc).toBeNaN();
  expect(result.notes?.join("\n")).toMatch(/do not ask for both presence and absence/);
  const unlabelled = { ...faithful, labels: faithful.labels.map(() => ({})) };
  await expect(clinicalCorrelation(input(unlabelled), { seed: 1 })).rejects.toThrow(
    /no finding is labelled in both/,
  );
});
