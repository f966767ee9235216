/**
 * CheXpert (Irvin et al. 2019): train.csv / valid.csv with Path, Sex, Age, Frontal/Lateral,
 * AP/PA and 14 observation columns (1.0 positive, 0.0 negative, -1.0 uncertain, blank = not
 * mentioned). Race is not in these files; it comes from the separate demographics table
 * (PATIENT, PRIMARY_RACE), exported to CSV and passed as `demographicsCsv`.
 *
 * Policies:
 *  - uncertain (-1) labels: `uncertain: "zeros"` (U-Zeros, default: uncertain counts as absent),
 *    "ones" (U-Ones) or "skip" (drop the row, counted in the skip report);
 *  - blank labels = not mentioned = 0 (the usual convention);
 *  - views: frontal only by default (`views: "all"` keeps laterals); dropped views are counted;
 *  - Sex "Unknown" or empty → no sex; Age 0 or empty → no age band (CheXpert uses 0 for unknown);
 *    ages under 18 have no band. Bands: 18-39, 40-64, 65+ (the synthetic cohort's);
 *  - race from PRIMARY_RACE: contains "White" → White, "Black" → Black, "Asian" → Asian,
 *    anything else (Other, Unknown, refused, other groups) → no race;
 *  - Path is resolved against `root`; when root is the CheXpert-v1.0(-small) folder itself, the
 *    leading folder in Path is dropped. A missing image is an error naming it.
 */
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { parseCsv } from "../../io/csv";
import { chexpertPrompt } from "../prompts";
import { defineAttribute } from "../subgroups";
import type { SampleRecord } from "../medicalSample";
import {
  createFileImageDataset,
  readImageFile,
  type FileImageDataset,
  type ImageOptions,
} from "./fileImageDataset";
import { RowProblem, SkipCollector, requireFullRow } from "./skipReport";

export type UncertainLabelPolicy = "zeros" | "ones" | "skip";

export interface ChexpertOptions extends ImageOptions {
  /** Folder that Path entries are relative to (the parent of CheXpert-v1.0-small/). */
  root: string;
  /** CSV file, relative to root or absolute (default "CheXpert-v1.0-small/train.csv"). */
  csv?: string;
  /** Observation columns to load as findings (default Pleural Effusion and Cardiomegaly). */
  findings?: string[];
  /** The finding named in the prompt (default Pleural Effusion, as the anchors do). */
  promptFinding?: string;
  uncertain?: UncertainLabelPolicy;
  views?: "frontal" | "lateral" | "all";
  /** CSV with PATIENT and PRIMARY_RACE columns (CheXpert's demographics table). */
  demographicsCsv?: string;
  skipInvalid?: boolean;
}

export const CHEXPERT_AGE_BANDS = ["18-39", "40-64", "65+"] as const;

export function chexpertAgeBand(age: number | undefined): string | undefined {
  if (age === undefined || !(age >= 18)) return undefined;
  return age < 40 ? "18-39" : age < 65 ? "40-64" : "65+";
}

export function chexpertRace(primaryRace: string): string | undefined {
  const text = primaryRace.toLowerCase();
  if (text.includes("white")) return "White";
  if (text.includes("black")) return "Black";
  if (text.includes("asian")) return "Asian";
  return undefined;
}

function readDemographics(path: string): Map<string, string> {
  if (!existsSync(path)) throw new Error(`CheXpert demographics file not found: ${path}`);
  const table = parseCsv(readFileSync(path, "utf8"), path);
  const patient = table.column("PATIENT");
  const race = table.column("PRIMARY_RACE");
  const out = new Map<string, string>();
  for (const row of table.rows) {
    const mapped = chexpertRace(row[race]);
    if (mapped) out.set(row[patient].trim(), mapped);
  }
  return out;
}

export function loadChexpert(options: ChexpertOptions): FileImageDataset {
  const csvPath = (options.csv ?? "CheXpert-v1.0-small/train.csv").startsWith("/")
    ? options.csv!
    : join(options.root, options.csv ?? "CheXpert-v1.0-small/train.csv");
  if (!existsSync(csvPath)) throw new Error(`CheXpert CSV not found: ${csvPath}`);
  const uncertain = options.uncertain ?? "zeros";
  if (!["zeros", "ones", "skip"].includes(uncertain)) {
    throw new Error(`uncertain must be "zeros", "ones" or "skip", got "${uncertain}"`);
  }
  const views = options.views ?? "frontal";
  const table = parseCsv(readFileSync(csvPath, "utf8"), csvPath, {
    shortRows: options.skipInvalid ? "keep" : "error",
  });
  const findings = options.findings ?? ["Pleural Effusion", "Cardiomegaly"];
  const promptFinding = options.promptFinding ?? "Pleural Effusion";
  const col = {
    path: table.column("Path"),
    sex: table.column("Sex"),
    age: table.column("Age"),
    view: table.column("Frontal/Lateral"),
    apPa: table.column("AP/PA"),
    labels: findings.map((f) => table.column(f)),
  };
  if (!findings.includes(promptFinding)) {
    throw new Error(
      `promptFinding "${promptFinding}" is not among the findings (${findings.join(", ")})`,
    );
  }
  const races = options.demographicsCsv ? readDemographics(options.demographicsCsv) : undefined;
  const skip = new SkipCollector(options.skipInvalid ?? false, csvPath);
  const records: SampleRecord[] = [];
  const paths: string[] = [];
  table.rows.forEach((row, r) => {
    // A short row has no view to filter on: it is counted as a bad row below.
    const view = (row[col.view] ?? views).trim();
    if (views !== "all" && view.toLowerCase() !== views) {
      skip.drop(r + 1, `${view.toLowerCase() || "unknown"} view`, `${view} view not requested`);
      return;
    }
    const parsed = skip.row(r + 1, () => {
      requireFullRow(row, table.header);
      const relative = row[col.path].trim();
      const candidates = [
        join(options.root, relative),
        join(options.root, relative.split("/").slice(1).join("/")),
      ];
      const path = candidates.find((p) => existsSync(p));
      if (!path) throw new RowProblem("missing image", `image file not found: ${candidates[0]}`);
      const labels: Record<string, number> = {};
      findings.forEach((finding, k) => {
        const raw = row[col.labels[k]].trim();
        const value = raw === "" ? 0 : Number(raw);
        if (value === -1) {
          if (uncertain === "skip") {
            throw new RowProblem("uncertain label", `uncertain (-1) ${finding} label`);
          }
          labels[finding] = uncertain === "ones" ? 1 : 0;
        } else if (value === 0 || value === 1) {
          labels[finding] = value;
        } else {
          throw new RowProblem("bad label", `${finding} label "${raw}" is not 1, 0, -1 or blank`);
        }
      });
      const sexRaw = row[col.sex].trim().toLowerCase();
      const sex = sexRaw === "male" ? "Male" : sexRaw === "female" ? "Female" : undefined;
      if (sex === undefined && sexRaw !== "unknown" && sexRaw !== "") {
        throw new RowProblem("bad sex", `Sex "${row[col.sex]}" is not Male, Female or Unknown`);
      }
      const ageRaw = row[col.age].trim();
      const ageNumber = ageRaw === "" ? 0 : Number(ageRaw);
      if (!Number.isFinite(ageNumber) || ageNumber < 0) {
        throw new RowProblem("bad age", `Age "${ageRaw}" is not a number of years`);
      }
      const age = ageNumber === 0 ? undefined : ageNumber;
      const patient = /patient\d+/.exec(relative)?.[0] ?? "";
      const race = races?.get(patient);
      const attributes: Record<string, string> = {};
      if (sex) attributes.sex = sex;
      if (race) attributes.race = race;
      const band = chexpertAgeBand(age);
      if (band) attributes.ageBand = band;
      const details: Record<string, string | number> = {
        path,
        patient,
        view,
        apPa: row[col.apPa],
      };
      if (age !== undefined) details.age = age;
      return {
        path,
        record: {
          id: relative,
          attributes,
          labels,
          prompt: chexpertPrompt({
            sex,
            race,
            positive: labels[promptFinding] === 1,
            finding: promptFinding,
          }),
          details,
        } satisfies SampleRecord,
      };
    });
    if (parsed) {
      records.push(parsed.record);
      paths.push(parsed.path);
    }
  });
  return createFileImageDataset({
    name: "CheXpert",
    attributes: [
      defineAttribute("sex", ["Female", "Male"]),
      defineAttribute("race", ["Asian", "Black", "White"]),
      defineAttribute("ageBand", [...CHEXPERT_AGE_BANDS]),
    ],
    findings,
    records,
    readImage: (i) => readImageFile(paths[i]),
    skipReport: skip.report,
    options,
    defaultChannels: 1,
  });
}
