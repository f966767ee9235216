/**
 * An AuditPart to JSON and back. Float data travels as base64 of its little-endian bytes
 * (typedArrayJson.ts), bit for bit; reading checks every field a merge relies on and names the
 * one that is wrong ("parts/2.json: representation[3].heads[0].probabilities has 40 values;
 * expected 64"), and checks the settings against the part's fingerprint.
 */
import * as fs from "node:fs";
import type { HeadPrediction } from "../classifiers/subgroupClassifier";
import {
  AUDIT_PART_KIND,
  AUDIT_PART_SCHEMA_VERSION,
  type AuditPart,
  type RepresentationBatch,
} from "./auditPart";
import { auditFingerprint, type AuditSettings } from "./auditSettings";
import { checkShard } from "./auditUnits";
import type { GeneratedNeighbours } from "./memorisationAudit";
import type { MemorisationPair, MemorisationSpace } from "./memorisationTypes";
import type { QualityBatch, QualityReference } from "./qualityAudit";
import { numberFromJson, toJsonValue, type JsonValue } from "./reportJson";
import { decodeArray, encodeArray, type TypedArrayKind } from "./typedArrayJson";

const SPACES: readonly MemorisationSpace[] = ["features", "pixels"];

function encodeNeighbours(n: GeneratedNeighbours): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const space of SPACES) {
    out[space] = {
      nearestTraining: toJsonValue(encodeArray(Int32Array.from(n[space].nearestTraining))),
      trainingDistance: toJsonValue(encodeArray(Float64Array.from(n[space].trainingDistance))),
      heldOutDistance: toJsonValue(encodeArray(Float64Array.from(n[space].heldOutDistance))),
    };
  }
  return out;
}

function encodeBatch(b: QualityBatch): JsonValue {
  return toJsonValue({
    start: b.start,
    count: b.count,
    attributes: b.attributes,
    labels: b.labels,
    features: encodeArray(b.features),
    ...(b.rasters ? { rasters: encodeArray(b.rasters) } : {}),
    ...(b.memorisation ? { memorisation: encodeNeighbours(b.memorisation) } : {}),
  });
}

function encodeReference(r: QualityReference): JsonValue {
  return toJsonValue({
    features: encodeArray(r.features),
    attributes: r.attributes,
    labels: r.labels,
    ...(r.rasters ? { rasters: encodeArray(r.rasters) } : {}),
    ...(r.memorisation
      ? {
          memorisation: {
            counts: r.memorisation.counts,
            nullRatios: {
              features: encodeArray(Float64Array.from(r.memorisation.nullRatios.features)),
              pixels: encodeArray(Float64Array.from(r.memorisation.nullRatios.pixels)),
            },
            sizeRatios: r.memorisation.sizeRatios,
          },
        }
      : {}),
  });
}

/** The part as a JSON value (what `JSON.stringify` writes to a file or a queue). */
export function auditPartToJson(part: AuditPart): JsonValue {
  return {
    kind: part.kind,
    schemaVersion: part.schemaVersion,
    fingerprint: part.fingerprint,
    shard: toJsonValue(part.shard),
    settings: toJsonValue(part.settings),
    environment: toJsonValue(part.environment),
    representation: part.representation.map((b) => ({
      prompt: b.prompt,
      start: b.start,
      count: b.count,
      heads: b.heads.map((h) => ({
        task: h.task,
        classes: [...h.classes],
        predicted: toJsonValue(encodeArray(h.predicted)),
        probabilities: toJsonValue(encodeArray(h.probabilities)),
      })),
    })),
    ...(part.quality
      ? {
          quality: {
            batches: part.quality.batches.map(encodeBatch),
            ...(part.quality.reference
              ? { reference: encodeReference(part.quality.reference) }
              : {}),
            pairs: toJsonValue(part.quality.pairs),
          },
        }
      : {}),
    elapsedMs: toJsonValue(part.elapsedMs),
  };
}

/** Field checks that name the part and the field path. */
class PartReader {
  constructor(private readonly source: string) {}

  fail(path: string, message: string): never {
    throw new Error(`${this.source}: ${path} ${message}`);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(path, `should be an object, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  field(o: Record<string, unknown>, key: string, path: string): unknown {
    if (!(key in o) || o[key] === undefined)
      this.fail(`${path}.${key}`.replace(/^\./, ""), "is missing");
    return o[key];
  }

  integer(value: unknown, path: string, min = 0): number {
    if (!Number.isInteger(value) || (value as number) < min) {
      this.fail(path, `should be an integer ≥ ${min}, got ${describe(value)}`);
    }
    return value as number;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, `should be a string, got ${describe(value)}`);
    return value as string;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `should be an array, got ${describe(value)}`);
    return value as unknown[];
  }

  strings(value: unknown, path: string): string[] {
    return this.array(value, path).map((item, i) => this.string(item, `${path}[${i}]`));
  }

  /** Per-image records of strings (groups) or numbers (labels). */
  records<T extends string | number>(
    value: unknown,
    path: string,
    kind: "string" | "number",
    length: number,
  ): Record<string, T>[] {
    const items = this.array(value, path);
    if (items.length !== length) this.fail(path, `has ${items.length} entries; expected ${length}`);
    return items.map((item, i) => {
      const o = this.object(item, `${path}[${i}]`);
      for (const [k, v] of Object.entries(o)) {
        if (typeof v !== kind)
          this.fail(`${path}[${i}].${k}`, `should be a ${kind}, got ${describe(v)}`);
      }
      return o as Record<string, T>;
    });
  }

  typed<K extends TypedArrayKind>(value: unknown, dtype: K, path: string, length?: number) {
    try {
      return decodeArray(value, dtype, path, length);
    } catch (error) {
      throw new Error(`${this.source}: ${(error as Error).message}`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === "object" ? "an object" : String(value);
}

function readSettings(r: PartReader, value: unknown): AuditSettings {
  const s = r.object(value, "settings");
  r.strings(r.field(s, "prompts", "settings"), "settings.prompts");
  r.integer(r.field(s, "imagesPerPrompt", "settings"), "settings.imagesPerPrompt", 2);
  r.integer(r.field(s, "generationBatch", "settings"), "settings.generationBatch", 1);
  r.integer(r.field(s, "resamples", "settings"), "settings.resamples", 1);
  if (typeof r.field(s, "seed", "settings") !== "number")
    r.fail("settings.seed", "should be a number");
  r.strings(r.field(s, "attributes", "settings"), "settings.attributes");
  r.array(r.field(s, "intersections", "settings"), "settings.intersections").forEach((names, i) =>
    r.strings(names, `settings.intersections[${i}]`),
  );
  r.object(r.field(s, "targets", "settings"), "settings.targets");
  r.object(r.field(s, "sampler", "settings"), "settings.sampler");
  r.object(r.field(s, "model", "settings"), "settings.model");
  r.object(r.field(s, "classifier", "settings"), "settings.classifier");
  r.string(r.field(s, "backend", "settings"), "settings.backend");
  const heads = r.object(r.field(s, "heads", "settings"), "settings.heads");
  for (const key of ["attributes", "findings"]) {
    r.array(r.field(heads, key, "settings.heads"), `settings.heads.${key}`).forEach((h, i) => {
      const head = r.object(h, `settings.heads.${key}[${i}]`);
      r.string(
        r.field(head, "name", `settings.heads.${key}[${i}]`),
        `settings.heads.${key}[${i}].name`,
      );
      r.strings(
        r.field(head, "classes", `settings.heads.${key}[${i}]`),
        `settings.heads.${key}[${i}].classes`,
      );
    });
  }
  if (s.quality !== undefined) {
    const quality = r.object(s.quality, "settings.quality");
    const plan = r.object(r.field(quality, "plan", "settings.quality"), "settings.quality.plan");
    const counts = r.object(
      r.field(plan, "counts", "settings.quality.plan"),
      "settings.quality.plan.counts",
    );
    r.integer(counts.generated, "settings.quality.plan.counts.generated", 2);
    r.integer(counts.real, "settings.quality.plan.counts.real", 2);
    const extractor = r.object(
      r.field(plan, "extractor", "settings.quality.plan"),
      "settings.quality.plan.extractor",
    );
    r.integer(extractor.dimension, "settings.quality.plan.extractor.dimension", 1);
    const shape = r.array(
      r.field(plan, "imageShape", "settings.quality.plan"),
      "settings.quality.plan.imageShape",
    );
    shape.forEach((v, i) => r.integer(v, `settings.quality.plan.imageShape[${i}]`, 1));
    r.integer(plan.unitSize, "settings.quality.plan.unitSize", 1);
    r.object(r.field(quality, "data", "settings.quality"), "settings.quality.data");
  }
  return s as unknown as AuditSettings;
}

function readHeads(r: PartReader, value: unknown, path: string, count: number): HeadPrediction[] {
  return r.array(value, path).map((item, h) => {
    const p = `${path}[${h}]`;
    const o = r.object(item, p);
    const classes = r.strings(r.field(o, "classes", p), `${p}.classes`);
    return {
      task: r.string(r.field(o, "task", p), `${p}.task`),
      classes,
      predicted: r.typed(r.field(o, "predicted", p), "int32", `${p}.predicted`, count),
      probabilities: r.typed(
        r.field(o, "probabilities", p),
        "float32",
        `${p}.probabilities`,
        count * classes.length,
      ),
    };
  });
}

function readNeighbours(r: PartReader, value: unknown, path: string, count: number) {
  const o = r.object(value, path);
  const out = {} as GeneratedNeighbours;
  for (const space of SPACES) {
    const p = `${path}.${space}`;
    const s = r.object(r.field(o, space, path), p);
    out[space] = {
      nearestTraining: Array.from(
        r.typed(r.field(s, "nearestTraining", p), "int32", `${p}.nearestTraining`, count),
      ),
      trainingDistance: Array.from(
        r.typed(r.field(s, "trainingDistance", p), "float64", `${p}.trainingDistance`, count),
      ),
      heldOutDistance: Array.from(
        r.typed(r.field(s, "heldOutDistance", p), "float64", `${p}.heldOutDistance`, count),
      ),
    };
  }
  return out;
}

function readBatch(
  r: PartReader,
  value: unknown,
  path: string,
  settings: AuditSettings,
): QualityBatch {
  const plan = settings.quality!.plan;
  const o = r.object(value, path);
  const start = r.integer(r.field(o, "start", path), `${path}.start`);
  const count = r.integer(r.field(o, "count", path), `${path}.count`, 1);
  const per = plan.imageShape[0] * plan.imageShape[1] * plan.imageShape[2];
  const batch: QualityBatch = {
    start,
    count,
    attributes: r.records<string>(
      r.field(o, "attributes", path),
      `${path}.attributes`,
      "string",
      count,
    ),
    labels: r.records<number>(r.field(o, "labels", path), `${path}.labels`, "number", count),
    features: r.typed(
      r.field(o, "features", path),
      "float64",
      `${path}.features`,
      count * plan.extractor.dimension,
    ),
  };
  if (plan.clinical) {
    batch.rasters = r.typed(r.field(o, "rasters", path), "float32", `${path}.rasters`, count * per);
  }
  if (plan.memorisation) {
    batch.memorisation = readNeighbours(
      r,
      r.field(o, "memorisation", path),
      `${path}.memorisation`,
      count,
    );
  }
  return batch;
}

function readReference(
  r: PartReader,
  value: unknown,
  path: string,
  settings: AuditSettings,
): QualityReference {
  const plan = settings.quality!.plan;
  const o = r.object(value, path);
  const n = plan.counts.real;
  const per = plan.imageShape[0] * plan.imageShape[1] * plan.imageShape[2];
  const reference: QualityReference = {
    features: r.typed(
      r.field(o, "features", path),
      "float64",
      `${path}.features`,
      n * plan.extractor.dimension,
    ),
    attributes: r.records<string>(
      r.field(o, "attributes", path),
      `${path}.attributes`,
      "string",
      n,
    ),
    labels: r.records<number>(r.field(o, "labels", path), `${path}.labels`, "number", n),
  };
  if (plan.clinical) {
    reference.rasters = r.typed(r.field(o, "rasters", path), "float32", `${path}.rasters`, n * per);
  }
  if (plan.memorisation) {
    const p = `${path}.memorisation`;
    const m = r.object(r.field(o, "memorisation", path), p);
    const counts = r.object(r.field(m, "counts", p), `${p}.counts`);
    const ratios = r.object(r.field(m, "nullRatios", p), `${p}.nullRatios`);
    reference.memorisation = {
      counts: {
        training: r.integer(counts.training, `${p}.counts.training`, 1),
        heldOut: r.integer(counts.heldOut, `${p}.counts.heldOut`, 2),
      },
      nullRatios: {
        features: Array.from(r.typed(ratios.features, "float64", `${p}.nullRatios.features`, n)),
        pixels: Array.from(r.typed(ratios.pixels, "float64", `${p}.nullRatios.pixels`, n)),
      },
      sizeRatios: r.array(r.field(m, "sizeRatios", p), `${p}.sizeRatios`).map((entry, i) => {
        const pair = r.array(entry, `${p}.sizeRatios[${i}]`);
        const ratio = numberFromJson(pair[1]);
        if (pair.length !== 2 || typeof pair[0] !== "string" || ratio === undefined) {
          r.fail(`${p}.sizeRatios[${i}]`, "should be [group key, ratio]");
        }
        return [pair[0] as string, ratio as number];
      }),
    };
  }
  return reference;
}

const PAIR_NUMBERS = [
  "generatedIndex",
  "trainingIndex",
  "featureRatio",
  "pixelRatio",
  "featureDistance",
  "pixelDistance",
  "scale",
  "width",
  "height",
];

function readPairs(r: PartReader, value: unknown, path: string): MemorisationPair[] {
  return r.array(value, path).map((item, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(item, p);
    for (const key of PAIR_NUMBERS) {
      const number = numberFromJson(r.field(o, key, p));
      if (number === undefined)
        r.fail(`${p}.${key}`, `should be a number, got ${describe(o[key])}`);
      o[key] = number;
    }
    if (o.space !== "features" && o.space !== "pixels") {
      r.fail(`${p}.space`, `should be "features" or "pixels", got ${describe(o.space)}`);
    }
    if (typeof r.field(o, "nearCopy", p) !== "boolean")
      r.fail(`${p}.nearCopy`, "should be a boolean");
    r.object(r.field(o, "groups", p), `${p}.groups`);
    for (const key of ["generatedPng", "trainingPng"]) {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(r.string(r.field(o, key, p), `${p}.${key}`))) {
        r.fail(`${p}.${key}`, "should be base64 PNG data");
      }
    }
    return o as unknown as MemorisationPair;
  });
}

/**
 * A part from its JSON value, checked; `source` names it in errors (a file name, a job id).
 * Refuses other kinds, other schema versions, and settings that do not hash to the fingerprint.
 */
export function parseAuditPart(value: unknown, source = "audit part"): AuditPart {
  const r = new PartReader(source);
  const o = r.object(value, "the part");
  if (o.kind !== AUDIT_PART_KIND) {
    throw new Error(
      `${source}: not an audit part (kind ${describe(o.kind)}, expected "${AUDIT_PART_KIND}")`,
    );
  }
  if (o.schemaVersion !== AUDIT_PART_SCHEMA_VERSION) {
    throw new Error(
      `${source}: audit part schema version ${describe(o.schemaVersion)}; this fairdiff reads version ${AUDIT_PART_SCHEMA_VERSION}`,
    );
  }
  const fingerprint = r.string(r.field(o, "fingerprint", ""), "fingerprint");
  const settings = readSettings(r, r.field(o, "settings", ""));
  if (auditFingerprint(settings) !== fingerprint) {
    throw new Error(
      `${source}: its settings do not match its fingerprint (the file was edited or is damaged)`,
    );
  }
  const shardObject = r.object(r.field(o, "shard", ""), "shard");
  const shard = { index: Number(shardObject.index), count: Number(shardObject.count) };
  try {
    checkShard(shard);
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const environment = r.object(r.field(o, "environment", ""), "environment");
  r.string(
    r.object(r.field(environment, "backend", "environment"), "environment.backend").name,
    "environment.backend.name",
  );
  r.object(r.field(environment, "versions", "environment"), "environment.versions");
  const prompts = settings.prompts.length;
  const representation: RepresentationBatch[] = r
    .array(r.field(o, "representation", ""), "representation")
    .map((item, i) => {
      const p = `representation[${i}]`;
      const b = r.object(item, p);
      const prompt = r.integer(r.field(b, "prompt", p), `${p}.prompt`);
      if (prompt >= prompts)
        r.fail(`${p}.prompt`, `is ${prompt}; the audit has ${prompts} prompts`);
      const start = r.integer(r.field(b, "start", p), `${p}.start`);
      const count = r.integer(r.field(b, "count", p), `${p}.count`, 1);
      return {
        prompt,
        start,
        count,
        heads: readHeads(r, r.field(b, "heads", p), `${p}.heads`, count),
      };
    });
  let quality: AuditPart["quality"];
  if (settings.quality) {
    const q = r.object(r.field(o, "quality", ""), "quality");
    quality = {
      batches: r
        .array(r.field(q, "batches", "quality"), "quality.batches")
        .map((b, i) => readBatch(r, b, `quality.batches[${i}]`, settings)),
      ...(q.reference === undefined
        ? {}
        : { reference: readReference(r, q.reference, "quality.reference", settings) }),
      pairs: readPairs(r, r.field(q, "pairs", "quality"), "quality.pairs"),
    };
  } else if (o.quality !== undefined) {
    r.fail("quality", "is present but the audit's settings have no quality audit");
  }
  const elapsed = r.object(r.field(o, "elapsedMs", ""), "elapsedMs");
  return {
    kind: AUDIT_PART_KIND,
    schemaVersion: AUDIT_PART_SCHEMA_VERSION,
    fingerprint,
    settings,
    shard,
    environment: environment as unknown as AuditPart["environment"],
    representation,
    ...(quality ? { quality } : {}),
    elapsedMs: {
      representation: Number(elapsed.representation) || 0,
      quality: Number(elapsed.quality) || 0,
      total: Number(elapsed.total) || 0,
    },
  };
}

/** Reads and checks a part file; the errors name the file. */
export function loadAuditPart(file: string): AuditPart {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read audit part "${file}": ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  return parseAuditPart(value, file);
}
