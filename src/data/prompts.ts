/**
 * Prompts in the exact formats of the anchor papers' datasets (METHODS.md). One function per
 * dataset; real loaders and synthetic cohorts both use them so prompts never drift apart.
 */

function sexWord(sex: string | undefined): string | undefined {
  if (sex === undefined) return undefined;
  const lower = sex.toLowerCase();
  if (lower === "male" || lower === "m") return "Male";
  if (lower === "female" || lower === "f") return "Female";
  return undefined;
}

function joinWords(...words: (string | undefined)[]): string {
  return words.filter((w): w is string => w !== undefined && w !== "").join(" ");
}

/** "Chest Radiography image of a {sex} {race} patient": the start every chest prompt shares. */
function chestSubject(sex: string | undefined, race: string | undefined): string {
  const who = joinWords(sexWord(sex), race);
  return `Chest Radiography image of a ${who === "" ? "" : who + " "}patient`;
}

/**
 * CheXpert as the anchor papers write it: "Chest Radiography image of a {Male|Female} {race}
 * patient diagnosed with {non Pleural Effusion|Pleural Effusion}". The finding defaults to Pleural
 * Effusion (the anchors' label); an unknown sex or race is left out rather than guessed. The real
 * CheXpert loader writes this, so a run on CheXpert repeats the papers' prompts word for word.
 */
export function chexpertPrompt(args: {
  sex?: string;
  race?: string;
  positive: boolean;
  finding?: string;
}): string {
  const finding = args.finding ?? "Pleural Effusion";
  return `${chestSubject(args.sex, args.race)} diagnosed with ${
    args.positive ? finding : `non ${finding}`
  }`;
}

/** CheXpert's label for a study with no pathology, used as the caption of such an image. */
export const NO_FINDING = "No Finding";

/**
 * A chest radiograph caption that names every finding present: "Chest Radiography image of a
 * {sex} {race} patient diagnosed with Pleural Effusion and Cardiomegaly", or "… patient with No
 * Finding" when there is none. The anchors' format names one finding and negates it ("non Pleural
 * Effusion"); a cohort with several findings needs each named, so a model trained on these
 * captions knows a word for every finding its classifier reads.
 */
export function chestFindingsPrompt(args: {
  sex?: string;
  race?: string;
  findings: readonly string[];
}): string {
  const subject = chestSubject(args.sex, args.race);
  const { findings } = args;
  if (findings.length === 0) return `${subject} with ${NO_FINDING}`;
  const named =
    findings.length === 1
      ? findings[0]
      : `${findings.slice(0, -1).join(", ")} and ${findings[findings.length - 1]}`;
  return `${subject} diagnosed with ${named}`;
}

export type Ham10000AgeGroup = "under 60" | "60 or older";

/** Age < 60 vs ≥ 60 as HAM10000 studies split it; undefined for a missing age. */
export function hamAgeGroup(age: number | undefined): Ham10000AgeGroup | undefined {
  if (age === undefined || !Number.isFinite(age)) return undefined;
  return age < 60 ? "under 60" : "60 or older";
}

/**
 * HAM10000: "Dermoscopic image of a {Male|Female} {Age under 60|Age equal 60 or older} patient
 * with the following diagnostic category: {benign|malignant}".
 */
export function ham10000Prompt(args: {
  sex?: string;
  ageGroup?: Ham10000AgeGroup;
  malignant: boolean;
}): string {
  const age =
    args.ageGroup === undefined
      ? undefined
      : args.ageGroup === "under 60"
        ? "Age under 60"
        : "Age equal 60 or older";
  const who = joinWords(sexWord(args.sex), age);
  return `Dermoscopic image of a ${who === "" ? "" : who + " "}patient with the following diagnostic category: ${
    args.malignant ? "malignant" : "benign"
  }`;
}

export type VisionLevel = "normal" | "mild" | "moderate" | "severe";
export type CupDiscLevel = "normal" | "borderline" | "abnormal";
export type RefractiveOutlook = "hyperopia" | "emmetropia" | "myopia";

/**
 * FairGenMed: "SLO fundus image of a {race} {sex} {ethnicity} patient with the following
 * conditions: {glaucoma|non-glaucoma}, {vision level}, {cup-disc level}, {outlook}", where the
 * vision level is md_severity ("normal vision" or "<level> vision loss"), the cup-disc level is
 * cdr_status ("<level> cup-disc ratio") and the outlook is se_status (refractive error), as in
 * FairDiffusion's public data handler. Race is Asian/Black/White, ethnicity
 * Hispanic/Non-Hispanic.
 */
export function fairGenMedPrompt(args: {
  race?: string;
  sex?: string;
  ethnicity?: string;
  glaucoma: boolean;
  vision: VisionLevel;
  cupDisc: CupDiscLevel;
  outlook: RefractiveOutlook;
}): string {
  const who = joinWords(args.race, sexWord(args.sex), args.ethnicity);
  const vision = args.vision === "normal" ? "normal vision" : `${args.vision} vision loss`;
  return `SLO fundus image of a ${who === "" ? "" : who + " "}patient with the following conditions: ${
    args.glaucoma ? "glaucoma" : "non-glaucoma"
  }, ${vision}, ${args.cupDisc} cup-disc ratio, ${args.outlook}`;
}
