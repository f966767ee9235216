/**
 * The shape of a saved audit report (schema version 1). A report is plain JSON so any tool can
 * read it; the JupyterLab renderer receives it under AUDIT_REPORT_MIME.
 *
 * Numbers: JSON has no NaN or ±Infinity, so a number field may also hold the strings "NaN",
 * "Infinity" or "-Infinity" (e.g. the FID of a group with too few images is "NaN").
 *
 * Versioning: a field added within a version is optional (e.g. KID, `quality.overallKid` and
 * `perGroupKid`), so every report written under that version still loads; the version changes
 * only when a field a reader needs changes or goes.
 */
import type { QualityAudit } from "./qualityTypes";
import type { PromptRepresentation } from "./representationAudit";
import type { RunManifest } from "./runManifest";

export const AUDIT_REPORT_KIND = "fairdiff-audit-report";
export const AUDIT_REPORT_SCHEMA_VERSION = 1;
export const AUDIT_REPORT_MIME = "application/vnd.fairdiff.audit-report+json";

export interface AuditReportData {
  schemaVersion: typeof AUDIT_REPORT_SCHEMA_VERSION;
  kind: typeof AUDIT_REPORT_KIND;
  /** ISO 8601 time the report was made. */
  createdAt: string;
  title: string;
  /** One entry per audited prompt: proportions, bias, TV, KL with intervals, per attribute. */
  representation: PromptRepresentation[];
  /** FID overall and per group, ES-FID, clinical correlation — when a quality audit ran. */
  quality?: QualityAudit;
  manifest: RunManifest;
}
