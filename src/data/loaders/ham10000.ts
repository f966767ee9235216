/**
 * HAM10000 (Tschandl et al. 2018): HAM10000_metadata.csv (lesion_id, image_id, dx, dx_type, age,
 * sex, localization) and JPEGs in HAM10000_images_part_1/ and HAM10000_images_part_2/.
 *
 * Policies:
 *  - malignant = dx in {mel, bcc, akiec}; benign = {nv, bkl, df, vasc}; any other dx is invalid.
 *  - sex "male"/"female"; "unknown" or empty → the sample has no sex (kept; the prompt leaves
 *    the word out). `requireAttributes: true` skips such rows instead.
 *  - age empty → no age group (same rule); age < 60 → "under 60", ≥ 60 → "60 or older".
 *  - a missing image is an error naming it (`skipInvalid` skips and counts it).
 *  - several images of one lesion stay separate samples; `details.lesion_id` lets splits group
 *    them (`groupBy: "lesion_id"`) so one lesion never lands in both train and test.
 */
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { parseCsv } from "../../io/csv";
import { ham10000Prompt, hamAgeGroup } from "../prompts";
import { defineAttribute } from "../subgroups";
import type { SampleRecord } from "../medicalSample";
import {
  createFileImageDataset,
  readImageFile,
  type FileImageDataset,
  type ImageOptions,
} from "./fileImageDataset";
import { RowProblem, SkipCollector, requireFullRow } from "./skipReport";

export const HAM_MALIGNANT_DX = ["mel", "bcc", "akiec"] as const;
export const HAM_BENIGN_DX = ["nv", "bkl", "df", "vasc"] as const;

export interface Ham10000Options extends ImageOptions {
  /** Folder holding HAM10000_metadata.csv and the image folders. */
  root: string;
  /** Metadata file name (default HAM10000_metadata.csv). */
  metadataFile?: string;
  /** Image folders searched in order (default part_1 then part_2). */
  imageDirs?: string[];
  /** Skip bad rows (unknown dx, missing image, bad age) and report them instead of failing. */
  skipInvalid?: boolean;
  /** Skip rows with unknown sex or age instead of keeping them without that attribute. */
  requireAttributes?: boolean;
}

export function loadHam10000(options: Ham10000Options): FileImageDataset {
  const metadataFile = options.metadataFile ?? "HAM10000_metadata.csv";
  const csvPath = join(options.root, metadataFile);
  if (!existsSync(csvPath)) throw new Error(`HAM10000 metadata not found: ${csvPath}`);
  const table = parseCsv(readFileSync(csvPath, "utf8"), csvPath, {
    shortRows: options.skipInvalid ? "keep" : "error",
  });
  const col = {
    lesion: table.column("lesion_id"),
    image: table.column("image_id"),
    dx: table.column("dx"),
    dxType: table.column("dx_type"),
    age: table.column("age"),
    sex: table.column("sex"),
    localization: table.column("localization"),
  };
  const dirs = (options.imageDirs ?? ["HAM10000_images_part_1", "HAM10000_images_part_2"]).map(
    (d) => join(options.root, d),
  );
  const skip = new SkipCollector(options.skipInvalid ?? false, csvPath);
  const records: SampleRecord[] = [];
  const paths: string[] = [];
  table.rows.forEach((row, r) => {
    const parsed = skip.row(r + 1, () => {
      requireFullRow(row, table.header);
      const imageId = row[col.image].trim();
      const dx = row[col.dx].trim().toLowerCase();
      const malignant = (HAM_MALIGNANT_DX as readonly string[]).includes(dx);
      if (!malignant && !(HAM_BENIGN_DX as readonly string[]).includes(dx)) {
        throw new RowProblem("unknown dx", `unknown dx "${row[col.dx]}" for image ${imageId}`);
      }
      const sexRaw = row[col.sex].trim().toLowerCase();
      const sex = sexRaw === "male" ? "Male" : sexRaw === "female" ? "Female" : undefined;
      if (sex === undefined && sexRaw !== "unknown" && sexRaw !== "") {
        throw new RowProblem("bad sex", `sex "${row[col.sex]}" is not male, female or unknown`);
      }
      const ageRaw = row[col.age].trim();
      const age = ageRaw === "" ? undefined : Number(ageRaw);
      if (age !== undefined && !(Number.isFinite(age) && age >= 0 && age < 130)) {
        throw new RowProblem("bad age", `age "${ageRaw}" is not a number of years`);
      }
      if (options.requireAttributes && (sex === undefined || age === undefined)) {
        throw new RowProblem(
          sex === undefined ? "unknown sex" : "missing age",
          `image ${imageId} has ${sex === undefined ? "unknown sex" : "no age"}`,
        );
      }
      const path = dirs.map((d) => join(d, `${imageId}.jpg`)).find((p) => existsSync(p));
      if (!path) {
        throw new RowProblem(
          "missing image",
          `image ${imageId}.jpg not found in ${dirs.join(" or ")}`,
        );
      }
      const ageGroup = hamAgeGroup(age);
      const attributes: Record<string, string> = {};
      if (sex) attributes.sex = sex;
      if (ageGroup) attributes.ageGroup = ageGroup;
      const details: Record<string, string | number> = {
        lesion_id: row[col.lesion],
        dx,
        dx_type: row[col.dxType],
        localization: row[col.localization],
        path,
      };
      if (age !== undefined) details.age = age;
      const record: SampleRecord = {
        id: imageId,
        attributes,
        labels: { malignant: malignant ? 1 : 0 },
        prompt: ham10000Prompt({ sex, ageGroup, malignant }),
        details,
      };
      return { record, path };
    });
    if (parsed) {
      records.push(parsed.record);
      paths.push(parsed.path);
    }
  });
  return createFileImageDataset({
    name: "HAM10000",
    attributes: [
      defineAttribute("sex", ["Female", "Male"]),
      defineAttribute("ageGroup", ["under 60", "60 or older"]),
    ],
    findings: ["malignant"],
    records,
    readImage: (i) => readImageFile(paths[i]),
    skipReport: skip.report,
    options,
    defaultChannels: 3,
  });
}
