/**
 * Synthetic SLO fundus images (RGB pseudo-colour). Cues mimic those in real fundus photographs:
 *  - race: fundus pigmentation (lighter, orange fundus to darker, brown fundus) — the signal
 *    networks use to predict self-reported race from real fundus images;
 *  - Hispanic or not: a shift of the pigment hue towards yellow-brown (a stylised marker:
 *    real images carry ethnicity signal mainly through pigmentation);
 *  - sex: retinal vessel calibre (wider vessels in male eyes), one of the features saliency maps
 *    of sex-prediction models highlight;
 *  - glaucoma: an enlarged optic cup, cup-to-disc ratio ≈ 0.7–0.85 instead of ≈ 0.2–0.4.
 * Eye laterality (disc left or right), disc position and brightness vary as nuisances.
 */
import type { RasterImage } from "../../io/rasterImage";
import type { Rng } from "../../util/random";
import {
  fairGenMedPrompt,
  type CupDiscLevel,
  type RefractiveOutlook,
  type VisionLevel,
} from "../prompts";
import { defineAttribute } from "../subgroups";
import { uniformTarget } from "../targetDistribution";
import { addNoise, bezierPoints, fillEllipse, fillWhere, strokePath } from "./canvas";
import type { CohortDefinition, SubjectDetails, SubjectLabels } from "./cohortDefinition";

const race = defineAttribute("race", ["Asian", "Black", "White"]);
const sex = defineAttribute("sex", ["Female", "Male"]);
const ethnicity = defineAttribute("ethnicity", ["Non-Hispanic", "Hispanic"]);

export const GLAUCOMA = "glaucoma";

const FUNDUS_RGB: Record<string, [number, number, number]> = {
  White: [0.9, 0.48, 0.27],
  Asian: [0.68, 0.35, 0.2],
  Black: [0.46, 0.23, 0.14],
};
const HISPANIC_HUE_SHIFT: [number, number, number] = [-0.02, 0.09, -0.03];

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function render(image: RasterImage, subject: SubjectLabels, details: SubjectDetails, rng: Rng) {
  const a = subject.attributes;
  const brightness = 1 + 0.025 * rng.normal();
  const shift = a.ethnicity === "Hispanic" ? HISPANIC_HUE_SHIFT : [0, 0, 0];
  const fundus = FUNDUS_RGB[a.race].map((v, ch) =>
    clamp01((v + shift[ch]) * brightness + 0.01 * rng.normal()),
  );
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    d[i] = fundus[0];
    d[i + 1] = fundus[1];
    d[i + 2] = fundus[2];
  }

  const rightEye = rng.next() < 0.5;
  const side = rightEye ? 1 : -1;
  const discX = 0.5 + side * (0.2 + 0.02 * rng.normal());
  const discY = 0.5 + 0.03 * rng.normal();
  const discR = 0.115 + 0.008 * rng.normal();
  // Macula: darker zone temporal to the disc.
  fillEllipse(
    image,
    0.5 - side * 0.1,
    0.5,
    0.1,
    0.09,
    fundus.map((v) => v * 0.72),
    {
      feather: 0.06,
    },
  );

  // Vascular arcades leave the disc up and down, arching towards the macula.
  const vesselWidth = a.sex === "Male" ? 0.05 : 0.018;
  const vesselColour = fundus.map((v, ch) => v * (ch === 0 ? 0.55 : 0.4));
  for (const up of [-1, 1]) {
    for (const reach of [0.6, 0.42, 0.25]) {
      const end: [number, number] = [
        discX - side * (reach + 0.05 * rng.normal()),
        discY + up * (0.28 + 0.05 * rng.next()),
      ];
      const control: [number, number] = [
        discX - side * 0.05,
        discY + up * (0.3 + 0.04 * rng.normal()),
      ];
      strokePath(
        image,
        bezierPoints([discX, discY], control, end, 7),
        vesselWidth * (reach > 0.5 ? 1 : 0.75),
        vesselColour,
      );
    }
  }

  fillEllipse(image, discX, discY, discR, discR * 1.08, [0.97, 0.8, 0.55], { feather: 0.01 });
  const cdr = Number(details.cupDiscRatio);
  fillEllipse(image, discX, discY, discR * cdr, discR * cdr * 1.08, [1, 0.98, 0.9], {
    feather: 0.008,
  });

  // Field of view: the SLO frame outside a circle is black.
  const field = 0.49 + 0.02 * rng.next();
  fillWhere(
    image,
    [0, 0, 1, 1],
    (x, y) => {
      const r = Math.sqrt((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5));
      return r > field ? Math.min(1, (r - field) / 0.03) : 0;
    },
    0,
  );
  addNoise(image, 0.012, () => rng.uint32());
  for (let i = 0; i < d.length; i++) d[i] = clamp01(d[i]);
}

function pick<T>(rng: Rng, items: readonly T[], weights: readonly number[]): T {
  return items[rng.categorical(weights)];
}

export const fundusCohort: CohortDefinition = {
  name: "fundus",
  title: "Synthetic SLO fundus (FairGenMed-like)",
  channels: 3,
  attributes: [race, sex, ethnicity],
  findings: [GLAUCOMA],
  defaultPrevalence: { [GLAUCOMA]: 0.5 },
  defaultAttributes: {
    race: uniformTarget(race),
    sex: uniformTarget(sex),
    ethnicity: uniformTarget(ethnicity),
  },
  cues: {
    race: "fundus pigmentation: light orange (White) to dark brown (Black)",
    sex: "retinal vessel calibre: wider vessels (male)",
    ethnicity: "pigment hue shifted towards yellow-brown (Hispanic; stylised)",
    [GLAUCOMA]: "enlarged optic cup: cup-to-disc ratio 0.7–0.85 instead of 0.2–0.4",
  },
  describe(subject, rng) {
    const glaucoma = subject.labels[GLAUCOMA] === 1;
    const cupDiscRatio = glaucoma ? 0.7 + 0.15 * rng.next() : 0.2 + 0.2 * rng.next();
    const cupDisc: CupDiscLevel =
      cupDiscRatio < 0.5 ? "normal" : cupDiscRatio < 0.75 ? "borderline" : "abnormal";
    const vision: VisionLevel = glaucoma
      ? pick(rng, ["normal", "mild", "moderate", "severe"] as const, [0.2, 0.4, 0.25, 0.15])
      : pick(rng, ["normal", "mild"] as const, [0.9, 0.1]);
    const outlook: RefractiveOutlook = pick(
      rng,
      ["hyperopia", "emmetropia", "myopia"] as const,
      [0.25, 0.4, 0.35],
    );
    return {
      age: 30 + rng.int(55),
      cupDiscRatio: Number(cupDiscRatio.toFixed(3)),
      cupDisc,
      vision,
      outlook,
    };
  },
  render,
  prompt(subject, details) {
    return fairGenMedPrompt({
      race: subject.attributes.race,
      sex: subject.attributes.sex,
      ethnicity: subject.attributes.ethnicity,
      glaucoma: subject.labels[GLAUCOMA] === 1,
      vision: details.vision as VisionLevel,
      cupDisc: details.cupDisc as CupDiscLevel,
      outlook: details.outlook as RefractiveOutlook,
    });
  },
};
