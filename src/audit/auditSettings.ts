/**
 * What an audit computes, settled before any image is generated: the model and classifier (by
 * fingerprint), prompts, seeds, sampler, targets, the classifier heads and their held-out
 * evaluation, the quality audit's resolved plan and real data — everything its statistics and
 * manifest are made of besides the images' own numbers. Plain JSON, identical in every shard of
 * an audit; its SHA-256 (the audit's fingerprint) keys queue jobs and ties parts together.
 */
import { createHash } from "node:crypto";
import type { QualityPlan } from "./qualityAudit";
import type { RepresentationHeads } from "./representationAudit";
import { toJsonValue, type JsonValue } from "./reportJson";
import type { RealDataIdentity, RunManifest } from "./runManifest";

/** The manifest's fields an audit is settled by, with the same meanings (runManifest.ts). */
type ManifestSettings = Pick<
  RunManifest,
  | "model"
  | "classifier"
  | "seed"
  | "prompts"
  | "imagesPerPrompt"
  | "attributes"
  | "intersections"
  | "targets"
  | "sampler"
  | "resamples"
>;

export interface AuditSettings extends ManifestSettings {
  /** Images per generation and classification batch: the unit of work. */
  generationBatch: number;
  heads: RepresentationHeads;
  quality?: { plan: QualityPlan; data: RealDataIdentity };
  /**
   * Where the per-image numbers are computed: another backend or another fairdiff computes
   * other numbers, so parts of one audit must agree on these.
   */
  backend: string;
  versions: { fairdiff: string; tfjsCore: string };
}

/** JSON with object keys sorted, so equal settings always hash alike. */
function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the settings' canonical JSON. */
export function auditFingerprint(settings: AuditSettings): string {
  return createHash("sha256")
    .update(canonical(toJsonValue(settings)))
    .digest("hex");
}

function shortJson(value: JsonValue | undefined): string {
  if (value === undefined) return "absent";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * The first place two settings differ, in words: "seed 0 vs 1", "prompts[1] "a" vs "b"",
 * "model.weightsSha256 3f… vs 9c…"; undefined when they are equal.
 */
export function settingsDifference(a: AuditSettings, b: AuditSettings): string | undefined {
  const walk = (
    x: JsonValue | undefined,
    y: JsonValue | undefined,
    path: string,
  ): string | undefined => {
    if (canonical(x ?? null) === canonical(y ?? null) && (x === undefined) === (y === undefined))
      return undefined;
    const bothObjects = x !== null && y !== null && typeof x === "object" && typeof y === "object";
    if (bothObjects && Array.isArray(x) === Array.isArray(y)) {
      if (Array.isArray(x) && Array.isArray(y) && x.length !== y.length) {
        return `${path} has ${x.length} vs ${y.length} entries`;
      }
      const xo = x as Record<string, JsonValue>;
      const yo = y as Record<string, JsonValue>;
      const keys = [...new Set([...Object.keys(xo), ...Object.keys(yo)])];
      for (const key of keys) {
        const inner = Array.isArray(x) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
        const found: string | undefined = walk(xo[key], yo[key], inner);
        if (found) return found;
      }
    }
    return `${path} ${shortJson(x)} vs ${shortJson(y)}`;
  };
  return walk(toJsonValue(a), toJsonValue(b), "");
}
