/**
 * AuditReport: everything one audit found — representation per prompt, image quality per group
 * when measured, and the run manifest — as one versioned, serialisable value. It saves to and
 * loads from JSON without loss, renders itself as HTML, Markdown and plain text, and offers a
 * MIME bundle so a notebook cell ending in `report` shows it.
 */
import * as fs from "node:fs";
import { groupIntervals, type GroupIntervals } from "../fairness/metricFrame";
import { writeFileAtomic } from "../io/atomicWrite";
import type { AttributeRepresentation } from "./attributeRepresentation";
import {
  AUDIT_REPORT_KIND,
  AUDIT_REPORT_MIME,
  AUDIT_REPORT_SCHEMA_VERSION,
  type AuditReportData,
} from "./auditReportSchema";
import { parseAuditReportData } from "./auditReportValidation";
import type { QualityAudit } from "./qualityTypes";
import type { PromptRepresentation } from "./representationAudit";
import { reportHtmlFragment, reportHtmlPage } from "./reportHtml";
import { toJsonValue, type JsonValue } from "./reportJson";
import { compareRepresentation, type ShareChange } from "./reportComparison";
import { reportMarkdown } from "./reportMarkdown";
import { reportSummary } from "./reportSummary";
import type { RunManifest } from "./runManifest";

/** Which share byGroup reads: as classified, or corrected for the classifier's confusions. */
export type GroupShareKind = "share" | "corrected share";

export interface AuditReportInput {
  representation: PromptRepresentation[];
  quality?: QualityAudit;
  manifest: RunManifest;
  title?: string;
  /** Defaults to now. */
  createdAt?: Date | string;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

export class AuditReport {
  readonly schemaVersion = AUDIT_REPORT_SCHEMA_VERSION;
  readonly kind = AUDIT_REPORT_KIND;
  readonly createdAt: string;
  readonly title: string;
  readonly representation: readonly PromptRepresentation[];
  readonly quality?: QualityAudit;
  readonly manifest: RunManifest;

  /** Takes a copy of `data` (checked) and freezes it: a report does not change once made. */
  private constructor(data: AuditReportData) {
    const copy = deepFreeze(structuredClone(data));
    this.createdAt = copy.createdAt;
    this.title = copy.title;
    this.representation = copy.representation;
    if (copy.quality !== undefined) this.quality = copy.quality;
    this.manifest = copy.manifest;
  }

  static create(input: AuditReportInput): AuditReport {
    const createdAt =
      input.createdAt instanceof Date
        ? input.createdAt.toISOString()
        : (input.createdAt ?? new Date().toISOString());
    const data: AuditReportData = {
      schemaVersion: AUDIT_REPORT_SCHEMA_VERSION,
      kind: AUDIT_REPORT_KIND,
      createdAt,
      title: input.title ?? "Subgroup audit",
      representation: input.representation,
      ...(input.quality === undefined ? {} : { quality: input.quality }),
      manifest: input.manifest,
    };
    // Checking the JSON form catches a malformed input now, not when someone loads the file.
    parseAuditReportData(toJsonValue(data));
    return new AuditReport(data);
  }

  /** Reads a report from parsed JSON (or JSON text); the error names the wrong field. */
  static fromJSON(value: unknown): AuditReport {
    return new AuditReport(parseAuditReportData(value));
  }

  static load(file: string): AuditReport {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      throw new Error(`cannot read audit report "${file}": ${(error as Error).message}`);
    }
    try {
      return AuditReport.fromJSON(text);
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
  }

  data(): AuditReportData {
    return {
      schemaVersion: this.schemaVersion,
      kind: this.kind,
      createdAt: this.createdAt,
      title: this.title,
      representation: this.representation as PromptRepresentation[],
      ...(this.quality === undefined ? {} : { quality: this.quality }),
      manifest: this.manifest,
    };
  }

  /** Plain JSON: non-finite numbers written as "NaN" / "Infinity" / "-Infinity". */
  toJSON(): JsonValue {
    return toJsonValue(this.data());
  }

  /** Writes the JSON atomically (a reader never sees half a report). */
  save(file: string): void {
    writeFileAtomic(file, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  /** One prompt's result for one attribute or intersection ("sex", "sex×race"). */
  attribute(prompt: string, attribute: string): AttributeRepresentation {
    const result = this.representation.find((p) => p.prompt === prompt);
    if (!result) {
      throw new Error(
        `the report has no prompt "${prompt}" (prompts: ${this.representation.map((p) => `"${p.prompt}"`).join(", ")})`,
      );
    }
    const found = [...result.attributes, ...result.intersections].find(
      (a) => a.attribute === attribute,
    );
    if (!found) {
      throw new Error(
        `the report has no attribute "${attribute}" for that prompt (attributes: ${[...result.attributes, ...result.intersections].map((a) => a.attribute).join(", ")})`,
      );
    }
    return found;
  }

  /**
   * One prompt's share of each group, with its interval: `{ Female: Interval, Male: Interval }`
   * (fairlearn's MetricFrame.by_group), plus `difference()` and `ratio()` of the estimates.
   * "corrected share" reads the error-aware estimate; the error says why when there is none.
   */
  byGroup(prompt: string, attribute: string, kind: GroupShareKind = "share"): GroupIntervals {
    const result = this.attribute(prompt, attribute);
    if (kind === "share") return groupIntervals(result.groups, result.proportions);
    if (!result.corrected) {
      throw new Error(
        `no corrected share for "${attribute}": ${result.correctionUnavailable ?? "the classifier carries no held-out confusion matrix for it"}`,
      );
    }
    return groupIntervals(result.groups, result.corrected);
  }

  /**
   * This report (before) against `after`: one row per prompt × attribute × group that both
   * measured, with both intervals and the change in the estimate.
   */
  compare(after: AuditReport): ShareChange[] {
    return compareRepresentation(this.representation, after.representation);
  }

  /** A standalone HTML page: inline CSS and SVG, nothing fetched. */
  toHTML(): string {
    return reportHtmlPage(this.data());
  }

  /** HTML to embed in notebook output: no document wrapper, styles scoped to the report. */
  toHTMLFragment(): string {
    return reportHtmlFragment(this.data());
  }

  toMarkdown(): string {
    return reportMarkdown(this.data());
  }

  toString(): string {
    return reportSummary(this.data());
  }

  /** What a notebook shows: the JupyterLab renderer reads the JSON; others fall back to HTML. */
  toMimeBundle(): Record<string, unknown> {
    return {
      [AUDIT_REPORT_MIME]: this.toJSON(),
      "text/html": this.toHTMLFragment(),
      "text/markdown": this.toMarkdown(),
      "text/plain": this.toString(),
    };
  }
}
