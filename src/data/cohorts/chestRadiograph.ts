/**
 * Synthetic frontal chest radiographs (grayscale). Each cue mimics one that exists in real CXRs:
 *  - sex: breast soft-tissue shadows over the lower lateral lung fields; broader male habitus;
 *  - race: bone density (rib and clavicle brightness) — one of the hypotheses for why networks
 *    read race from real CXRs (Gichoya et al. 2022). A stylised proxy, not a claim of biology;
 *  - age band: calcification and unfolding of the aortic knob;
 *  - pleural effusion: fluid filling a lung base with a meniscus, blunting the costophrenic angle;
 *  - cardiomegaly: cardiothoracic ratio ≈ 0.60 instead of ≈ 0.42.
 */
import type { RasterImage } from "../../io/rasterImage";
import type { Rng } from "../../util/random";
import { chestFindingsPrompt } from "../prompts";
import { defineAttribute } from "../subgroups";
import { uniformTarget } from "../targetDistribution";
import {
  addNoise,
  bezierPoints,
  fillEllipse,
  fillWhere,
  smoothCoverage,
  strokePath,
} from "./canvas";
import type { CohortDefinition, SubjectDetails, SubjectLabels } from "./cohortDefinition";

const sex = defineAttribute("sex", ["Female", "Male"]);
const race = defineAttribute("race", ["Asian", "Black", "White"]);
const ageBand = defineAttribute("ageBand", ["18-39", "40-64", "65+"]);

export const PLEURAL_EFFUSION = "Pleural Effusion";
export const CARDIOMEGALY = "Cardiomegaly";

/** The neutral prompt studies and methods default to: a finding, no sex, no race. */
export const NEUTRAL_EFFUSION_PROMPT = chestFindingsPrompt({ findings: [PLEURAL_EFFUSION] });

const AGE_RANGE: Record<string, [number, number]> = {
  "18-39": [18, 39],
  "40-64": [40, 64],
  "65+": [65, 90],
};
/** Bone brightness added by ribs and clavicles. */
const BONE_DENSITY: Record<string, number> = { Asian: 0.07, White: 0.15, Black: 0.23 };
/** Aortic knob calcification brightness and lateral unfolding. */
const AORTIC_CALCIFICATION: Record<string, number> = { "18-39": 0, "40-64": 0.25, "65+": 0.5 };
const AORTIC_UNFOLDING: Record<string, number> = { "18-39": 0, "40-64": 0.012, "65+": 0.026 };

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function render(image: RasterImage, subject: SubjectLabels, details: SubjectDetails, rng: Rng) {
  const a = subject.attributes;
  const male = a.sex === "Male";
  const habitus = (male ? 1.03 : 0.97) + 0.03 * rng.normal();
  const dx = 0.012 * rng.normal();
  const dy = 0.012 * rng.normal();
  image.data.fill(0.04);

  // Soft tissue of the trunk, then aerated lungs, mediastinum and heart.
  fillEllipse(image, 0.5 + dx, 0.62 + dy, 0.43 * habitus, 0.55, 0.32, { feather: 0.04 });
  const lungRx = 0.13 * habitus;
  const lungRy = 0.27;
  const lungCy = 0.5 + dy;
  const lungCx = [0.5 + dx - 0.17 * habitus, 0.5 + dx + 0.17 * habitus];
  for (const cx of lungCx) fillEllipse(image, cx, lungCy, lungRx, lungRy, 0.1, { feather: 0.02 });
  fillEllipse(image, 0.5 + dx, 0.42 + dy, 0.05, 0.3, 0.5, { feather: 0.02 });
  const ctr = Number(details.cardiothoracicRatio);
  const thoracicWidth = 2 * (0.17 * habitus + lungRx);
  fillEllipse(image, 0.52 + dx, 0.67 + dy, (ctr * thoracicWidth) / 2, 0.12, 0.55, {
    feather: 0.015,
  });

  if (subject.labels[PLEURAL_EFFUSION] === 1) {
    const sides = rng.next() < 0.4 ? [0, 1] : [rng.int(2)];
    for (const side of sides) {
      const cx = lungCx[side];
      const outward = side === 0 ? -1 : 1;
      const level = lungCy + lungRy - (0.13 + 0.07 * rng.next());
      const edge = 1 / image.height;
      fillWhere(
        image,
        [cx - lungRx, level - 0.1, cx + lungRx, lungCy + lungRy],
        (x, y) => {
          const nx = (x - cx) / lungRx;
          const ny = (y - lungCy) / lungRy;
          const inLung = smoothCoverage((1 - Math.sqrt(nx * nx + ny * ny)) * lungRx, edge);
          // Meniscus: the fluid climbs the lateral chest wall.
          const meniscus = level - 0.07 * Math.max(0, nx * outward);
          return inLung * smoothCoverage(y - meniscus, edge);
        },
        0.5,
      );
    }
  }

  if (!male) {
    const size = 0.11 + 0.03 * rng.next();
    for (const s of [-1, 1]) {
      fillEllipse(image, 0.5 + dx + s * 0.21 * habitus, 0.73 + dy, size * 1.15, size * 0.8, 0.14, {
        mode: "add",
        feather: 0.03,
      });
    }
  }

  const bone = BONE_DENSITY[a.race] * (1 + 0.05 * rng.normal());
  for (const s of [-1, 1]) {
    for (let k = 0; k < 6; k++) {
      const y0 = 0.27 + k * 0.085 + dy;
      const rib = bezierPoints(
        [0.5 + dx + s * 0.33 * habitus, y0 + 0.05],
        [0.5 + dx + s * 0.22 * habitus, y0 - 0.04],
        [0.5 + dx + s * 0.05, y0],
        5,
      );
      strokePath(image, rib, 0.022, bone, { mode: "add" });
    }
    strokePath(
      image,
      [
        [0.5 + dx + s * 0.05, 0.2 + dy],
        [0.5 + dx + s * 0.3 * habitus, 0.15 + dy],
      ],
      0.03,
      bone * 1.3,
      { mode: "add" },
    );
  }

  const calcification = AORTIC_CALCIFICATION[a.ageBand] * (1 + 0.08 * rng.normal());
  const knobX = 0.56 + dx + AORTIC_UNFOLDING[a.ageBand];
  const knob: [number, number][] = [];
  for (let k = 0; k <= 6; k++) {
    const t = Math.PI * (1.1 + (0.9 * k) / 6);
    knob.push([knobX + 0.04 * Math.cos(t) + 0.04, 0.28 + dy + 0.04 * Math.sin(t)]);
  }
  strokePath(image, knob, 0.026, calcification, { mode: "add" });

  addNoise(image, 0.015, () => rng.uint32());
  const exposure = 1 + 0.03 * rng.normal();
  const d = image.data;
  for (let i = 0; i < d.length; i++) d[i] = clamp(d[i] * exposure, 0, 1);
}

export const chestRadiographCohort: CohortDefinition = {
  name: "cxr",
  title: "Synthetic chest radiographs (CheXpert-like)",
  channels: 1,
  attributes: [sex, race, ageBand],
  findings: [PLEURAL_EFFUSION, CARDIOMEGALY],
  defaultPrevalence: { [PLEURAL_EFFUSION]: 0.4, [CARDIOMEGALY]: 0.3 },
  defaultAttributes: {
    sex: uniformTarget(sex),
    race: uniformTarget(race),
    ageBand: uniformTarget(ageBand),
  },
  cues: {
    sex: "breast soft-tissue shadows over the lower lung fields (female); broader habitus (male)",
    race: "bone density: rib and clavicle brightness (stylised proxy)",
    ageBand: "calcified, unfolded aortic knob with age",
    [PLEURAL_EFFUSION]: "fluid at a lung base with a lateral meniscus (blunted costophrenic angle)",
    [CARDIOMEGALY]: "cardiothoracic ratio about 0.60 instead of 0.42",
  },
  describe(subject, rng) {
    const [lo, hi] = AGE_RANGE[subject.attributes.ageBand];
    const enlarged = subject.labels[CARDIOMEGALY] === 1;
    return {
      age: lo + rng.int(hi - lo + 1),
      cardiothoracicRatio: Number(
        clamp(enlarged ? 0.6 + 0.03 * rng.normal() : 0.42 + 0.03 * rng.normal(), 0.33, 0.7).toFixed(
          3,
        ),
      ),
    };
  },
  render,
  prompt(subject) {
    return chestFindingsPrompt({
      sex: subject.attributes.sex,
      race: subject.attributes.race,
      findings: [PLEURAL_EFFUSION, CARDIOMEGALY].filter((f) => subject.labels[f] === 1),
    });
  },
};
