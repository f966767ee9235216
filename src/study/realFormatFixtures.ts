/**
 * Stand-ins for the real datasets, written in their exact on-disk formats from the embedded
 * synthetic cohorts: CheXpert (train.csv + JPEGs + the CHEXPERT DEMO demographics table),
 * HAM10000 (metadata CSV + JPEGs in two part folders) and FairGenMed (data_summary.csv + one .npz
 * per sample). A notebook whose real data is absent writes these, says so, and runs the same
 * loaders on them — so every step a user takes with the real files is exercised.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createSyntheticCohort } from "../data/cohorts/syntheticCohort";
import type { CohortMix } from "../data/cohorts/cohortMix";
import type { SyntheticCohort } from "../data/cohorts/syntheticCohort";
import { encodeJpeg } from "../io/imageCodec";
import { encodeNpz } from "../io/npz";

export interface RealFormatOptions {
  /** Folder to write into (created). */
  root: string;
  size: number;
  seed: number;
  /** Pixel size of the written images (default 64; the loaders resize). */
  imageSize?: number;
  /** Proportions of the synthetic cohort behind the files (default: the cohort's own). */
  mix?: CohortMix;
}

export interface RealFormatFiles {
  root: string;
  /** The files a loader is pointed at, by role. */
  files: Record<string, string>;
  records: number;
}

function write(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

function csvLine(values: (string | number)[]): string {
  return values
    .map((v) => {
      const text = String(v);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(",");
}

function cohort(name: "cxr" | "derm" | "fundus", options: RealFormatOptions): SyntheticCohort {
  if (!Number.isInteger(options.size) || options.size < 1) {
    throw new Error(`size must be a positive integer, got ${options.size}`);
  }
  return createSyntheticCohort({
    cohort: name,
    size: options.size,
    seed: options.seed,
    imageSize: options.imageSize ?? 64,
    ...(options.mix ? { mix: options.mix } : {}),
  });
}

const CHEXPERT_HEADER = [
  "Path",
  "Sex",
  "Age",
  "Frontal/Lateral",
  "AP/PA",
  "No Finding",
  "Enlarged Cardiomediastinum",
  "Cardiomegaly",
  "Lung Opacity",
  "Lung Lesion",
  "Edema",
  "Consolidation",
  "Pneumonia",
  "Atelectasis",
  "Pneumothorax",
  "Pleural Effusion",
  "Pleural Other",
  "Fracture",
  "Support Devices",
];

const CHEXPERT_RACE: Record<string, string> = {
  White: "White",
  Black: "Black or African American",
  Asian: "Asian",
};

/** CheXpert-v1.0-small/train.csv, its frontal JPEGs and chexpert_demo.csv (PRIMARY_RACE). */
export function writeChexpertFormat(options: RealFormatOptions): RealFormatFiles {
  const data = cohort("cxr", options);
  const rows = [CHEXPERT_HEADER.join(",")];
  const demo = [csvLine(["PATIENT", "GENDER", "AGE_AT_CXR", "PRIMARY_RACE", "ETHNICITY"])];
  data.records.forEach((record, i) => {
    const patient = `patient${String(i + 1).padStart(5, "0")}`;
    const relative = `CheXpert-v1.0-small/train/${patient}/study1/view1_frontal.jpg`;
    const effusion = record.labels["Pleural Effusion"];
    const cardiomegaly = record.labels["Cardiomegaly"];
    const cells: Record<string, string | number> = {
      Path: relative,
      Sex: record.attributes.sex ?? "Unknown",
      Age: record.details.age ?? 0,
      "Frontal/Lateral": "Frontal",
      "AP/PA": i % 3 === 0 ? "PA" : "AP",
      "No Finding": effusion === 0 && cardiomegaly === 0 ? "1.0" : "",
      Cardiomegaly: cardiomegaly === 1 ? "1.0" : "0.0",
      "Pleural Effusion": effusion === 1 ? "1.0" : "0.0",
      "Support Devices": "",
    };
    rows.push(csvLine(CHEXPERT_HEADER.map((h) => cells[h] ?? "")));
    demo.push(
      csvLine([
        patient,
        record.attributes.sex ?? "Unknown",
        record.details.age ?? "",
        CHEXPERT_RACE[record.attributes.race ?? ""] ?? "Unknown",
        "Non-Hispanic/Non-Latino",
      ]),
    );
    write(join(options.root, relative), encodeJpeg(data.sampleAt(i).image, 95));
  });
  const csv = join(options.root, "CheXpert-v1.0-small", "train.csv");
  const demographicsCsv = join(options.root, "chexpert_demo.csv");
  write(csv, `${rows.join("\n")}\n`);
  write(demographicsCsv, `${demo.join("\n")}\n`);
  return {
    root: options.root,
    files: { csv, demographicsCsv },
    records: data.records.length,
  };
}

/** HAM10000_metadata.csv and ISIC_*.jpg split over HAM10000_images_part_1 and _2. */
export function writeHam10000Format(options: RealFormatOptions): RealFormatFiles {
  const data = cohort("derm", options);
  const rows = [csvLine(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"])];
  const sites = ["back", "trunk", "lower extremity", "upper extremity", "face", "abdomen"];
  data.records.forEach((record, i) => {
    const imageId = `ISIC_${String(24306 + i).padStart(7, "0")}`;
    const malignant = record.labels.malignant === 1;
    rows.push(
      csvLine([
        `HAM_${String(i).padStart(7, "0")}`,
        imageId,
        malignant ? (i % 2 === 0 ? "mel" : "bcc") : i % 2 === 0 ? "nv" : "bkl",
        malignant ? "histo" : "follow_up",
        record.details.age !== undefined ? `${Number(record.details.age).toFixed(1)}` : "",
        (record.attributes.sex ?? "unknown").toLowerCase(),
        sites[i % sites.length],
      ]),
    );
    const part = i % 2 === 0 ? "HAM10000_images_part_1" : "HAM10000_images_part_2";
    write(join(options.root, part, `${imageId}.jpg`), encodeJpeg(data.sampleAt(i).image, 95));
  });
  const metadata = join(options.root, "HAM10000_metadata.csv");
  write(metadata, `${rows.join("\n")}\n`);
  return { root: options.root, files: { metadata }, records: data.records.length };
}

const FAIRGENMED_RACE: Record<string, string> = { Asian: "asian", Black: "black", White: "white" };

/** data_summary.csv and Training/Test data_*.npz with slo_fundus (H, W, 3) uint8 and labels. */
export function writeFairGenMedFormat(options: RealFormatOptions): RealFormatFiles {
  const data = cohort("fundus", options);
  const rows = [
    csvLine([
      "filename",
      "age",
      "gender",
      "race",
      "ethnicity",
      "language",
      "maritalstatus",
      "glaucoma",
      "md_severity",
      "cdr_status",
      "se_status",
      "rnflt_status",
      "use",
    ]),
  ];
  data.records.forEach((record, i) => {
    const file = `data_${String(i + 1).padStart(5, "0")}.npz`;
    const use = i % 5 === 4 ? "test" : "training";
    const image = data.sampleAt(i).image;
    const pixels = new Uint8Array(image.data.length);
    for (let p = 0; p < pixels.length; p++) {
      pixels[p] = Math.round(Math.min(1, Math.max(0, image.data[p])) * 255);
    }
    const int = (v: number) => ({ data: new Int32Array([v]), shape: [] as number[] });
    const race = record.attributes.race;
    write(
      join(options.root, use === "test" ? "Test" : "Training", file),
      encodeNpz({
        slo_fundus: { data: pixels, shape: [image.height, image.width, image.channels] },
        race: race === undefined ? int(-1) : int(["Asian", "Black", "White"].indexOf(race)),
        male: int(
          record.attributes.sex === "Male" ? 1 : record.attributes.sex === "Female" ? 0 : -1,
        ),
        hispanic: int(
          record.attributes.ethnicity === "Hispanic"
            ? 1
            : record.attributes.ethnicity === "Non-Hispanic"
              ? 0
              : -1,
        ),
        glaucoma: int(record.labels.glaucoma),
        age: { data: new Float64Array([Number(record.details.age ?? 0)]), shape: [] },
      }),
    );
    rows.push(
      csvLine([
        file,
        Number(record.details.age ?? 0).toFixed(1),
        (record.attributes.sex ?? "unknown").toLowerCase(),
        FAIRGENMED_RACE[race ?? ""] ?? "unknown",
        (record.attributes.ethnicity ?? "unknown").toLowerCase(),
        "english",
        "single",
        record.labels.glaucoma === 1 ? "yes" : "no",
        String(record.details.vision),
        String(record.details.cupDisc),
        String(record.details.outlook),
        "normal",
        use,
      ]),
    );
  });
  const summary = join(options.root, "data_summary.csv");
  write(summary, `${rows.join("\n")}\n`);
  return { root: options.root, files: { summary }, records: data.records.length };
}
