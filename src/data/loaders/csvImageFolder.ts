/**
 * Any "metadata CSV + image folder" dataset, by column mapping: which column holds the image
 * path, which columns hold each sensitive attribute and each finding, and how raw values map to
 * group names and to 0/1. A value the mapping does not know is an error naming it (or a skipped
 * row with `skipInvalid`); a value mapped to null means "unknown" and leaves the attribute out.
 */
import { existsSync, readFileSync } from "fs";
import { isAbsolute, join } from "path";
import { parseCsv } from "../../io/csv";
import type { ChannelCount } from "../../io/rasterImage";
import { defineAttribute } from "../subgroups";
import type { SampleRecord } from "../medicalSample";
import {
  createFileImageDataset,
  readImageFile,
  type FileImageDataset,
  type ImageOptions,
} from "./fileImageDataset";
import { RowProblem, SkipCollector, requireFullRow } from "./skipReport";

export interface AttributeColumn {
  column: string;
  /** Group names in order. */
  groups: string[];
  /** Raw value → group name (null = unknown). Without it, a raw value must equal a group name. */
  values?: Record<string, string | null>;
}

export interface FindingColumn {
  column: string;
  /** Raw values meaning present (default ["1", "1.0", "true", "yes"]). */
  positive?: string[];
  /** Raw values meaning absent (default ["0", "0.0", "false", "no", ""]). */
  negative?: string[];
}

export interface CsvImageFolderOptions extends ImageOptions {
  csvPath: string;
  /** Folder image paths are relative to (default: the CSV's folder). */
  imageRoot?: string;
  pathColumn: string;
  /** Optional id column (default: the image path). */
  idColumn?: string;
  attributes: Record<string, AttributeColumn>;
  findings: Record<string, FindingColumn>;
  /** Builds the prompt; default "<attr groups> patient with <finding>/<no finding>…". */
  prompt?: (record: Omit<SampleRecord, "prompt">) => string;
  name?: string;
  channels?: ChannelCount;
  skipInvalid?: boolean;
}

const DEFAULT_POSITIVE = ["1", "1.0", "true", "yes"];
const DEFAULT_NEGATIVE = ["0", "0.0", "false", "no", ""];

function defaultPrompt(record: Omit<SampleRecord, "prompt">): string {
  const who = Object.values(record.attributes).join(" ");
  const findings = Object.entries(record.labels).map(([f, v]) => (v === 1 ? f : `no ${f}`));
  return `Medical image of a ${who ? who + " " : ""}patient with ${findings.join(", ")}`;
}

export function loadCsvImageFolder(options: CsvImageFolderOptions): FileImageDataset {
  if (!existsSync(options.csvPath)) throw new Error(`metadata CSV not found: ${options.csvPath}`);
  const table = parseCsv(readFileSync(options.csvPath, "utf8"), options.csvPath, {
    shortRows: options.skipInvalid ? "keep" : "error",
  });
  const root = options.imageRoot ?? join(options.csvPath, "..");
  const pathCol = table.column(options.pathColumn);
  const idCol = options.idColumn ? table.column(options.idColumn) : undefined;
  const attributeCols = Object.entries(options.attributes).map(([name, spec]) => ({
    name,
    spec,
    index: table.column(spec.column),
    attribute: defineAttribute(name, spec.groups),
  }));
  const findingCols = Object.entries(options.findings).map(([name, spec]) => ({
    name,
    index: table.column(spec.column),
    positive: (spec.positive ?? DEFAULT_POSITIVE).map((v) => v.toLowerCase()),
    negative: (spec.negative ?? DEFAULT_NEGATIVE).map((v) => v.toLowerCase()),
  }));
  const skip = new SkipCollector(options.skipInvalid ?? false, options.csvPath);
  const records: SampleRecord[] = [];
  const paths: string[] = [];
  table.rows.forEach((row, r) => {
    const parsed = skip.row(r + 1, () => {
      requireFullRow(row, table.header);
      const relative = row[pathCol].trim();
      const path = isAbsolute(relative) ? relative : join(root, relative);
      if (!existsSync(path)) throw new RowProblem("missing image", `image file not found: ${path}`);
      const attributes: Record<string, string> = {};
      for (const a of attributeCols) {
        const raw = row[a.index].trim();
        const group = a.spec.values
          ? a.spec.values[raw]
          : a.spec.groups.includes(raw)
            ? raw
            : undefined;
        if (group === undefined) {
          throw new RowProblem(
            `unknown ${a.name} value`,
            `${a.spec.column} value "${raw}" maps to no group of "${a.name}" (${a.spec.groups.join(", ")})`,
          );
        }
        if (group !== null) {
          if (!a.spec.groups.includes(group)) {
            throw new Error(`mapping for "${a.name}" names unknown group "${group}"`);
          }
          attributes[a.name] = group;
        }
      }
      const labels: Record<string, number> = {};
      for (const f of findingCols) {
        const raw = row[f.index].trim().toLowerCase();
        if (f.positive.includes(raw)) labels[f.name] = 1;
        else if (f.negative.includes(raw)) labels[f.name] = 0;
        else
          throw new RowProblem(
            `unknown ${f.name} value`,
            `${f.name} value "${row[f.index]}" is neither positive nor negative`,
          );
      }
      const base = {
        id: idCol === undefined ? relative : row[idCol],
        attributes,
        labels,
        details: { path },
      };
      return { path, record: { ...base, prompt: (options.prompt ?? defaultPrompt)(base) } };
    });
    if (parsed) {
      records.push(parsed.record);
      paths.push(parsed.path);
    }
  });
  return createFileImageDataset({
    name: options.name ?? options.csvPath,
    attributes: attributeCols.map((a) => a.attribute),
    findings: findingCols.map((f) => f.name),
    records,
    readImage: (i) => readImageFile(paths[i]),
    skipReport: skip.report,
    options,
    defaultChannels: options.channels ?? 3,
  });
}
