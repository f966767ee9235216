/**
 * FairGenMed / Harvard-FairVLMed (Luo et al.): one .npz per patient (slo_fundus image array;
 * race, male, hispanic, glaucoma scalars) in Training/, Validation/, Test/ (or flat), and
 * data_summary.csv with filename, md_severity, cdr_status and se_status — the fields the
 * anchor prompt needs, read as FairDiffusion's public data handler reads them.
 *
 * Policies:
 *  - demographics and glaucoma come from the .npz (as in the public handler); race as a string
 *    ("Asian", "Black or African American", "White or Caucasian") or an index 0/1/2 in that
 *    order; male 1/0; hispanic 1/0; -1 or any other race → that attribute is unknown (absent);
 *  - slo_fundus as (H, W) grayscale or (H, W, C) with C = 1, 3 or 4; uint8 is divided by 255,
 *    floats above 1 likewise, floats in [0, 1] are kept; default output RGB;
 *  - a file named in the summary but absent, an .npz without a needed key, or a summary without
 *    a needed column is an error naming it (`skipInvalid` skips rows and counts them).
 */
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { parseCsv } from "../../io/csv";
import type { NpyArray } from "../../io/npy";
import { openNpzFile, type NpzArchive } from "../../io/npz";
import { createRaster, type RasterImage } from "../../io/rasterImage";
import {
  fairGenMedPrompt,
  type CupDiscLevel,
  type RefractiveOutlook,
  type VisionLevel,
} from "../prompts";
import { defineAttribute } from "../subgroups";
import type { SampleRecord } from "../medicalSample";
import {
  createFileImageDataset,
  type FileImageDataset,
  type ImageOptions,
} from "./fileImageDataset";
import { RowProblem, SkipCollector, requireFullRow } from "./skipReport";

export interface FairGenMedOptions extends ImageOptions {
  /** Folder holding data_summary.csv and the .npz files (flat or in split folders). */
  root: string;
  summaryFile?: string;
  /** Folders searched for each file, in order (default: root, Training, Validation, Test). */
  subdirs?: string[];
  skipInvalid?: boolean;
}

const RACE_BY_NAME: Record<string, string> = {
  asian: "Asian",
  "black or african american": "Black",
  black: "Black",
  "white or caucasian": "White",
  white: "White",
};
const RACE_BY_INDEX = ["Asian", "Black", "White"];

function scalar(array: NpyArray, key: string, file: string): number | string {
  if (array.data.length !== 1) throw new RowProblem("bad npz", `${file}: "${key}" is not a scalar`);
  return (array.data as ArrayLike<number | string>)[0];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], column: string): T {
  const v = value.trim().toLowerCase() as T;
  if (!allowed.includes(v)) {
    throw new RowProblem(
      `bad ${column}`,
      `${column} "${value}" is not one of ${allowed.join(", ")}`,
    );
  }
  return v;
}

/** Converts an slo_fundus array to a RasterImage in [0, 1]. */
export function fundusArrayToImage(array: NpyArray, name: string): RasterImage {
  const [h, w, c = 1] = array.shape;
  if (!(array.shape.length === 2 || (array.shape.length === 3 && [1, 3, 4].includes(c)))) {
    throw new Error(
      `${name}: slo_fundus has shape (${array.shape.join(", ")}), expected (H, W) or (H, W, C)`,
    );
  }
  if (Array.isArray(array.data)) throw new Error(`${name}: slo_fundus holds strings`);
  const values = array.data as ArrayLike<number>;
  let scale = 1;
  if (array.dtype.endsWith("u1")) scale = 1 / 255;
  else {
    let max = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
    if (max > 1) scale = 1 / 255;
  }
  const channels = c === 1 ? 1 : 3;
  const out = createRaster(w, h, channels);
  for (let p = 0; p < w * h; p++) {
    for (let ch = 0; ch < channels; ch++) out.data[p * channels + ch] = values[p * c + ch] * scale;
  }
  return out;
}

export function loadFairGenMed(options: FairGenMedOptions): FileImageDataset {
  const summaryPath = join(options.root, options.summaryFile ?? "data_summary.csv");
  if (!existsSync(summaryPath)) throw new Error(`FairGenMed summary not found: ${summaryPath}`);
  const table = parseCsv(readFileSync(summaryPath, "utf8"), summaryPath, {
    shortRows: options.skipInvalid ? "keep" : "error",
  });
  const col = {
    file: table.column("filename"),
    md: table.column("md_severity"),
    cdr: table.column("cdr_status"),
    se: table.column("se_status"),
    use: table.has("use") ? table.column("use") : undefined,
  };
  const subdirs = options.subdirs ?? ["", "Training", "Validation", "Test"];
  const skip = new SkipCollector(options.skipInvalid ?? false, summaryPath);
  const records: SampleRecord[] = [];
  const paths: string[] = [];
  table.rows.forEach((row, r) => {
    const parsed = skip.row(r + 1, () => {
      requireFullRow(row, table.header);
      const file = row[col.file].trim();
      const path = subdirs.map((d) => join(options.root, d, file)).find((p) => existsSync(p));
      if (!path)
        throw new RowProblem("missing file", `npz file ${file} not found under ${options.root}`);
      const vision = oneOf(
        row[col.md],
        ["normal", "mild", "moderate", "severe"] as VisionLevel[],
        "md_severity",
      );
      const cupDisc = oneOf(
        row[col.cdr],
        ["normal", "borderline", "abnormal"] as CupDiscLevel[],
        "cdr_status",
      );
      const outlook = oneOf(
        row[col.se],
        ["hyperopia", "emmetropia", "myopia"] as RefractiveOutlook[],
        "se_status",
      );
      let npz: NpzArchive;
      try {
        npz = openNpzFile(path);
      } catch (error) {
        throw new RowProblem("corrupt npz", (error as Error).message);
      }
      try {
        const need = (key: string) => {
          if (!npz.has(key)) throw new RowProblem("bad npz", `${path}: no "${key}" array`);
          return scalar(npz.get(key), key, path);
        };
        const raceRaw = need("race");
        const race =
          typeof raceRaw === "string"
            ? RACE_BY_NAME[raceRaw.trim().toLowerCase()]
            : RACE_BY_INDEX[raceRaw];
        const male = Number(need("male"));
        const hispanic = Number(need("hispanic"));
        const glaucoma = Number(need("glaucoma"));
        if (glaucoma !== 0 && glaucoma !== 1) {
          throw new RowProblem("bad label", `${path}: glaucoma is ${glaucoma}, expected 0 or 1`);
        }
        if (!npz.has("slo_fundus"))
          throw new RowProblem("bad npz", `${path}: no "slo_fundus" array`);
        const sex = male === 1 ? "Male" : male === 0 ? "Female" : undefined;
        const ethnicity = hispanic === 1 ? "Hispanic" : hispanic === 0 ? "Non-Hispanic" : undefined;
        const attributes: Record<string, string> = {};
        if (race) attributes.race = race;
        if (sex) attributes.sex = sex;
        if (ethnicity) attributes.ethnicity = ethnicity;
        const details: Record<string, string | number> = {
          path,
          md_severity: vision,
          cdr_status: cupDisc,
          se_status: outlook,
        };
        if (col.use !== undefined) details.use = row[col.use];
        const record: SampleRecord = {
          id: file.replace(/\.npz$/, ""),
          attributes,
          labels: { glaucoma },
          prompt: fairGenMedPrompt({
            race,
            sex,
            ethnicity,
            glaucoma: glaucoma === 1,
            vision,
            cupDisc,
            outlook,
          }),
          details,
        };
        return { record, path };
      } finally {
        npz.close();
      }
    });
    if (parsed) {
      records.push(parsed.record);
      paths.push(parsed.path);
    }
  });
  return createFileImageDataset({
    name: "FairGenMed",
    attributes: [
      defineAttribute("race", ["Asian", "Black", "White"]),
      defineAttribute("sex", ["Female", "Male"]),
      defineAttribute("ethnicity", ["Non-Hispanic", "Hispanic"]),
    ],
    findings: ["glaucoma"],
    records,
    readImage: (i) => {
      const npz = openNpzFile(paths[i]);
      try {
        return fundusArrayToImage(npz.get("slo_fundus"), paths[i]);
      } finally {
        npz.close();
      }
    },
    skipReport: skip.report,
    options,
    defaultChannels: 3,
  });
}
