/**
 * Synthetic dermoscopy images (RGB). Cues mimic those in real dermoscopy:
 *  - skin tone (Fitzpatrick-like, grouped I–II / III–IV / V–VI): background skin colour;
 *  - sex: dark terminal hairs crossing the field (more on male skin — the hair artefacts
 *    HAM10000 images are known for);
 *  - age ≥ 60: photo-ageing — solar lentigines and the criss-cross furrows of sun-damaged
 *    skin (cutis rhomboidalis);
 *  - malignant: the ABCD rule — asymmetric, irregular border, several colours (dark blotch,
 *    blue-white veil); benign lesions are round or oval, regular and uniform.
 * A circular dermatoscope vignette and lesion placement vary as nuisances.
 */
import type { RasterImage } from "../../io/rasterImage";
import type { Rng } from "../../util/random";
import { ham10000Prompt, type Ham10000AgeGroup } from "../prompts";
import { defineAttribute } from "../subgroups";
import { uniformTarget } from "../targetDistribution";
import { addNoise, bezierPoints, fillEllipse, fillPolar, fillWhere, strokePath } from "./canvas";
import type { CohortDefinition, SubjectDetails, SubjectLabels } from "./cohortDefinition";

const sex = defineAttribute("sex", ["Female", "Male"]);
const ageGroup = defineAttribute("ageGroup", ["under 60", "60 or older"]);
const skinTone = defineAttribute("skinTone", ["I-II", "III-IV", "V-VI"]);

export const MALIGNANT = "malignant";

const SKIN_RGB: Record<string, [number, number, number]> = {
  "I-II": [0.94, 0.8, 0.72],
  "III-IV": [0.76, 0.56, 0.42],
  "V-VI": [0.44, 0.29, 0.2],
};

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function render(image: RasterImage, subject: SubjectLabels, _details: SubjectDetails, rng: Rng) {
  const a = subject.attributes;
  const lightness = 1 + 0.04 * rng.normal();
  const skin = SKIN_RGB[a.skinTone].map((v) => clamp01(v * lightness + 0.012 * rng.normal()));
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) {
    d[i] = skin[0];
    d[i + 1] = skin[1];
    d[i + 2] = skin[2];
  }

  if (a.ageGroup === "60 or older") {
    const spots = 5 + rng.int(4);
    for (let k = 0; k < spots; k++) {
      const r = 0.035 + 0.02 * rng.next();
      fillEllipse(image, 0.1 + 0.8 * rng.next(), 0.1 + 0.8 * rng.next(), r, r * 0.8, [
        skin[0] * 0.66,
        skin[1] * 0.52,
        skin[2] * 0.45,
      ]);
    }
    // Cutis rhomboidalis: criss-crossing furrows of sun-damaged skin, period ~1/9 of the field.
    const angle = Math.PI * rng.next();
    const phase = rng.next();
    const frequency = 8 + 2 * rng.next();
    const furrows = (u: number) => {
      const f = u * frequency + phase;
      return Math.max(0, 1 - 6 * Math.abs(f - Math.round(f)));
    };
    const [c1, s1, c2, s2] = [
      Math.cos(angle),
      Math.sin(angle),
      Math.cos(angle + 1.1),
      Math.sin(angle + 1.1),
    ];
    fillWhere(
      image,
      [0, 0, 1, 1],
      (x, y) => Math.max(furrows(x * c1 + y * s1), furrows(x * c2 + y * s2)),
      skin.map((v) => v * 0.64),
    );
  }

  // The lesion: brown, darker on darker skin.
  const cx = 0.5 + 0.06 * rng.normal();
  const cy = 0.5 + 0.06 * rng.normal();
  const radius = 0.17 + 0.05 * rng.next();
  const brown = [skin[0] * 0.5, skin[1] * 0.36, skin[2] * 0.3];
  if (subject.labels[MALIGNANT] === 1) {
    const harmonics = Array.from({ length: 4 }, (_, k) => ({
      k: 3 + k * 2 + rng.int(2),
      amp: 0.07 + 0.07 * rng.next(),
      phase: 2 * Math.PI * rng.next(),
    }));
    const stretch = 0.25 + 0.15 * rng.next();
    const tilt = 2 * Math.PI * rng.next();
    const border = (theta: number) =>
      radius *
      (1 +
        stretch * Math.cos(theta - tilt) + // asymmetry
        harmonics.reduce((s, h) => s + h.amp * Math.cos(h.k * theta + h.phase), 0));
    fillPolar(image, cx, cy, radius * 2, border, brown);
    // Multicolour: a black-brown blotch and a blue-white veil, off-centre.
    const ang = 2 * Math.PI * rng.next();
    fillEllipse(
      image,
      cx + 0.45 * radius * Math.cos(ang),
      cy + 0.45 * radius * Math.sin(ang),
      radius * 0.45,
      radius * 0.35,
      [brown[0] * 0.35, brown[1] * 0.3, brown[2] * 0.3],
      { feather: 0.02 },
    );
    fillEllipse(
      image,
      cx - 0.4 * radius * Math.cos(ang),
      cy - 0.4 * radius * Math.sin(ang),
      radius * 0.4,
      radius * 0.4,
      [0.45, 0.5, 0.62],
      { opacity: 0.65, feather: 0.03 },
    );
  } else {
    const aspect = 0.8 + 0.2 * rng.next();
    fillEllipse(image, cx, cy, radius, radius * aspect, brown, {}, Math.PI * rng.next());
  }

  const hairs = a.sex === "Male" ? 4 + rng.int(5) : rng.int(2);
  for (let k = 0; k < hairs; k++) {
    const from: [number, number] = [rng.next(), rng.next() < 0.5 ? -0.05 : 1.05];
    const to: [number, number] = [rng.next(), from[1] < 0 ? 1.05 : -0.05];
    const control: [number, number] = [0.5 + 0.3 * rng.normal(), 0.5 + 0.3 * rng.normal()];
    const points = bezierPoints(from, control, to, 8);
    strokePath(image, points, a.sex === "Male" ? 0.02 : 0.01, [0.12, 0.08, 0.06], {
      opacity: a.sex === "Male" ? 0.95 : 0.5,
    });
  }

  // Dermatoscope: dark corners outside a circular field.
  const field = 0.5 + 0.05 * rng.next();
  fillWhere(
    image,
    [0, 0, 1, 1],
    (x, y) => {
      const r = Math.sqrt((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5));
      return r > field ? Math.min(1, (r - field) / 0.04) : 0;
    },
    0.03,
  );
  addNoise(image, 0.012, () => rng.uint32());
  for (let i = 0; i < d.length; i++) d[i] = clamp01(d[i]);
}

export const dermoscopyCohort: CohortDefinition = {
  name: "derm",
  title: "Synthetic dermoscopy (HAM10000-like)",
  channels: 3,
  attributes: [sex, ageGroup, skinTone],
  findings: [MALIGNANT],
  defaultPrevalence: { [MALIGNANT]: 0.4 },
  defaultAttributes: {
    sex: uniformTarget(sex),
    ageGroup: uniformTarget(ageGroup),
    skinTone: uniformTarget(skinTone),
  },
  cues: {
    sex: "dark terminal hairs across the field (male); none or faint (female)",
    ageGroup: "photo-ageing: solar lentigines and criss-cross furrows (60 or older)",
    skinTone: "background skin colour",
    [MALIGNANT]: "asymmetric, irregular border, dark blotch and blue-white veil (ABCD rule)",
  },
  describe(subject, rng) {
    const older = subject.attributes.ageGroup === "60 or older";
    return { age: older ? 60 + 5 * rng.int(6) : 20 + 5 * rng.int(8) };
  },
  render,
  prompt(subject) {
    return ham10000Prompt({
      sex: subject.attributes.sex,
      ageGroup: subject.attributes.ageGroup as Ham10000AgeGroup,
      malignant: subject.labels[MALIGNANT] === 1,
    });
  },
};
