/**
 * A comparison of the fixes as one versioned, serialisable value: the settings they shared and,
 * per row (the base model, then each fix), its cost and its full audit report. The table the
 * page and the Markdown show is derived from the reports (`comparisonTable`), so a saved
 * comparison re-renders without a kernel and nothing in it is a second copy of a figure.
 */
import * as fs from "node:fs";
import type { AuditReportData } from "../audit/auditReportSchema";
import { parseAuditReportData } from "../audit/auditReportValidation";
import { toJsonValue } from "../audit/reportJson";
import { writeFileAtomic } from "../io/atomicWrite";
import { FIX_NAMES, type FixName } from "../methods/startFix";
import type { ComparisonSettings } from "./comparisonSettings";

export const FIX_COMPARISON_KIND = "fairdiff-fix-comparison";
export const FIX_COMPARISON_SCHEMA_VERSION = 1;

/** What a fix cost: the shared budget it used and the wall time it took. */
export interface FixCost {
  steps: number;
  imagesPerStep: number;
  /** steps × images per step. */
  images: number;
  fineTuneMs: number;
  finalLoss: number;
}

export interface ComparisonRow {
  fix: FixName | "base";
  label: string;
  /** Absent for the base model (nothing was fine-tuned). */
  cost?: FixCost;
  auditMs: number;
  report: AuditReportData;
}

export interface FixComparisonData {
  kind: typeof FIX_COMPARISON_KIND;
  schemaVersion: typeof FIX_COMPARISON_SCHEMA_VERSION;
  createdAt: string;
  settings: ComparisonSettings;
  modelFile: string;
  classifierFile: string;
  rows: ComparisonRow[];
  elapsedMs: number;
}

function fail(path: string, message: string): never {
  throw new Error(`fix comparison: ${path} ${message}`);
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, "should be an object");
  }
  return value as Record<string, unknown>;
}

function numberAt(o: Record<string, unknown>, key: string, path: string): void {
  if (typeof o[key] !== "number") fail(`${path}.${key}`, "should be a number");
}

/** Reads a comparison from parsed JSON (or JSON text); the error names the wrong field. */
export function parseFixComparison(input: unknown): FixComparisonData {
  const o = objectAt(typeof input === "string" ? JSON.parse(input) : input, "(top level)");
  if (o.kind !== FIX_COMPARISON_KIND) fail("kind", `should be "${FIX_COMPARISON_KIND}"`);
  if (o.schemaVersion !== FIX_COMPARISON_SCHEMA_VERSION) {
    fail(
      "schemaVersion",
      `should be ${FIX_COMPARISON_SCHEMA_VERSION}, got ${String(o.schemaVersion)}`,
    );
  }
  for (const key of ["createdAt", "modelFile", "classifierFile"]) {
    if (typeof o[key] !== "string") fail(key, "should be a string");
  }
  numberAt(o, "elapsedMs", "");
  objectAt(o.settings, "settings");
  if (!Array.isArray(o.rows) || o.rows.length === 0) fail("rows", "should be a non-empty array");
  const rows = (o.rows as unknown[]).map((item, i): ComparisonRow => {
    const path = `rows[${i}]`;
    const row = objectAt(item, path);
    if (row.fix !== "base" && !FIX_NAMES.includes(row.fix as FixName)) {
      fail(`${path}.fix`, `should be "base" or one of ${FIX_NAMES.join(", ")}`);
    }
    if (typeof row.label !== "string") fail(`${path}.label`, "should be a string");
    numberAt(row, "auditMs", path);
    if (row.cost !== undefined) {
      const cost = objectAt(row.cost, `${path}.cost`);
      for (const key of ["steps", "imagesPerStep", "images", "fineTuneMs"]) {
        numberAt(cost, key, `${path}.cost`);
      }
      if (typeof cost.finalLoss !== "number" && cost.finalLoss !== "NaN") {
        fail(`${path}.cost.finalLoss`, "should be a number");
      }
      cost.finalLoss = Number(cost.finalLoss);
    }
    let report: AuditReportData;
    try {
      report = parseAuditReportData(row.report);
    } catch (error) {
      fail(`${path}.report:`, (error as Error).message);
    }
    return { ...(row as unknown as ComparisonRow), report };
  });
  return { ...(o as unknown as FixComparisonData), rows };
}

export function saveFixComparison(file: string, data: FixComparisonData): void {
  writeFileAtomic(file, `${JSON.stringify(toJsonValue(data), null, 2)}\n`);
}

export function loadFixComparison(file: string): FixComparisonData {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read fix comparison "${file}": ${(error as Error).message}`);
  }
  try {
    return parseFixComparison(text);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}
