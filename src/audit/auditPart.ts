/**
 * One shard's share of an audit — its per-image numbers, not yet statistics — as a versioned,
 * JSON-serialisable value: each prompt batch's classifier outputs (predicted group and
 * calibrated probabilities per head: what counts, bootstrap intervals, the fairness discrepancy
 * and the confusion-corrected estimate are computed from), the quality counterparts' feature
 * rows (FID, KID), their memorisation neighbours and pixels where the clinical probe needs them,
 * and in one part the real side. `mergeAuditParts` turns a complete set into the AuditReport.
 * Every part carries the audit's settings and fingerprint, so parts of different audits are
 * refused, not mixed.
 */
import type { HeadPrediction } from "../classifiers/subgroupClassifier";
import type { AuditSettings } from "./auditSettings";
import type { AuditShard } from "./auditUnits";
import type { MemorisationPair } from "./memorisationTypes";
import type { QualityBatch, QualityReference } from "./qualityAudit";
import type { RunManifest } from "./runManifest";

export const AUDIT_PART_KIND = "fairdiff.audit-part";
export const AUDIT_PART_SCHEMA_VERSION = 1;

/** Images start … start+count−1 of prompt `prompt` (an index into the settings' prompts). */
export interface RepresentationBatch {
  prompt: number;
  start: number;
  count: number;
  /** Every classifier head's predictions for these images, in image order. */
  heads: HeadPrediction[];
}

export interface AuditPart {
  kind: typeof AUDIT_PART_KIND;
  schemaVersion: typeof AUDIT_PART_SCHEMA_VERSION;
  /** SHA-256 of the settings (`auditFingerprint`). */
  fingerprint: string;
  settings: AuditSettings;
  shard: AuditShard;
  /** The backend and versions of the process that computed this part. */
  environment: Pick<RunManifest, "backend" | "versions">;
  representation: RepresentationBatch[];
  /** Present when the audit has a quality audit (possibly with no batches in this shard). */
  quality?: {
    batches: QualityBatch[];
    /** The real side: in exactly one part of an audit. */
    reference?: QualityReference;
    /** This shard's most copy-like images (memorisation audit); the merge keeps the best. */
    pairs: MemorisationPair[];
  };
  /** Compute time of this part (ms). */
  elapsedMs: { representation: number; quality: number; total: number };
}
