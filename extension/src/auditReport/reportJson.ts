/**
 * The part of fairdiff's audit-report JSON (`application/vnd.fairdiff.audit-report+json`, kind
 * "fairdiff-audit-report", schemaVersion 1) that the renderer reads. Read leniently: a figure may
 * be a plain number or an interval; missing optional parts are skipped, not fatal. No DOM here,
 * so the reading is unit-tested in Node. What it reads has the shapes the shared chart functions
 * take (src/audit/reportCharts.ts), and KID figures are shown on the library's scale.
 */
import { kidScale, kidWithInterval, type KidScale } from "../../../src/audit/kidScale";

export type { KidScale };
export const AUDIT_REPORT_MIME = "application/vnd.fairdiff.audit-report+json";
export const AUDIT_REPORT_KIND = "fairdiff-audit-report";

export interface Figure {
  estimate: number;
  lower?: number;
  upper?: number;
  level?: number;
}

export interface AttributeRow {
  attribute: string;
  groups: string[];
  proportions: Figure[];
  target?: number[];
  /** Images classified into each group. */
  counts?: number[];
  /** Shares corrected for the classifier's confusion matrix, when the report has them. */
  corrected?: Figure[];
  bias?: Figure;
  totalVariation?: Figure;
  n?: number;
}

export interface PromptSection {
  prompt: string;
  n?: number;
  attributes: AttributeRow[];
  intersections: AttributeRow[];
}

export type SizedFigure = Figure & { nGenerated?: number; nReal?: number };

export interface GroupFid {
  attribute: string;
  groups: string[];
  fid: SizedFigure[];
  /** KID per group (same order), when the report has it. */
  kid?: SizedFigure[];
  esFid?: number;
}

export interface QualitySection {
  extractor?: string;
  overall?: SizedFigure;
  /** Overall KID, when the report has it (reports from before KID do not). */
  overallKid?: SizedFigure;
  byAttribute: GroupFid[];
}

export interface MemorisationGroupRow {
  group: string;
  n?: number;
  nearCopies?: number;
  share?: Figure;
  /** What the thresholds flag among this group's held-out real images (nothing copied). */
  nullShare?: Figure;
}

export interface MemorisationPairImages {
  /** Base64 PNGs (checked to hold base64 characters only). */
  generatedPng: string;
  trainingPng: string;
  width: number;
  height: number;
  caption: string;
}

export interface MemorisationSection {
  level?: number;
  overall?: { n?: number; nearCopies?: number; share?: Figure };
  byAttribute: { attribute: string; groups: MemorisationGroupRow[] }[];
  pairs: MemorisationPairImages[];
  training?: string;
}

export interface ReadReport {
  title: string;
  schemaVersion: number;
  createdAt?: string;
  prompts: PromptSection[];
  quality?: QualitySection;
  memorisation?: MemorisationSection;
  manifest: [string, string][];
  warnings: string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const asString = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const asNumber = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : undefined;

/** A number, an interval, or a figure ({ value, interval? }, as FID and KID are written). */
export function readFigure(v: unknown): Figure | undefined {
  if (typeof v === "number") return { estimate: v };
  if (!isObject(v)) return undefined;
  const estimate = asNumber(v.estimate ?? v.value);
  if (estimate === undefined) return undefined;
  const nested = isObject(v.interval) ? v.interval : {};
  return {
    estimate,
    lower: asNumber(v.lower ?? v.low ?? nested.lower),
    upper: asNumber(v.upper ?? v.high ?? nested.upper),
    level: asNumber(v.level ?? nested.level),
  };
}

function readSizedFigure(v: unknown): SizedFigure | undefined {
  const figure = readFigure(v);
  return (
    figure && {
      ...figure,
      nGenerated: isObject(v) ? asNumber(v.nGenerated) : undefined,
      nReal: isObject(v) ? asNumber(v.nReal) : undefined,
    }
  );
}

/** One KID scale for the figures shown together (src/audit/kidScale.ts, as the HTML report). */
export function kidScaleOf(figures: readonly (Figure | undefined)[]): KidScale {
  return kidScale(figures.flatMap((f) => (f ? [f.estimate, f.lower ?? NaN, f.upper ?? NaN] : [])));
}

/** A KID figure on `scale` with its interval, as the HTML report writes it; "–" when missing. */
export function formatKid(f: Figure | undefined, scale: KidScale): string {
  if (!f || !Number.isFinite(f.estimate)) return "–";
  const interval =
    f.lower !== undefined && f.upper !== undefined ? { lower: f.lower, upper: f.upper } : undefined;
  return kidWithInterval({ value: f.estimate, interval }, scale);
}

function readNumbers(v: unknown): number[] | undefined {
  return Array.isArray(v) ? v.map((x) => asNumber(x) ?? NaN) : undefined;
}

function readAttribute(v: unknown): AttributeRow | undefined {
  if (!isObject(v) || !Array.isArray(v.groups)) return undefined;
  const groups = v.groups.map((g) => String(g));
  const proportions = Array.isArray(v.proportions)
    ? v.proportions.map((p) => readFigure(p) ?? { estimate: NaN })
    : groups.map(() => ({ estimate: NaN }));
  return {
    attribute: asString(v.attribute ?? v.name, "?"),
    groups,
    proportions,
    target: readNumbers(v.target),
    counts: readNumbers(v.counts),
    corrected: Array.isArray(v.corrected)
      ? v.corrected.map((p) => readFigure(p) ?? { estimate: NaN })
      : undefined,
    bias: readFigure(v.bias),
    totalVariation: readFigure(v.totalVariation),
    n: asNumber(v.n),
  };
}

function readPrompt(v: unknown): PromptSection | undefined {
  if (!isObject(v)) return undefined;
  const list = (x: unknown) =>
    Array.isArray(x) ? x.map(readAttribute).filter((a): a is AttributeRow => !!a) : [];
  return {
    prompt: asString(v.prompt),
    n: asNumber(v.n),
    attributes: list(v.attributes),
    intersections: list(v.intersections),
  };
}

function readQuality(v: unknown): QualitySection | undefined {
  if (!isObject(v)) return undefined;
  const figures = (x: unknown) =>
    Array.isArray(x) ? x.map((f) => readSizedFigure(f) ?? { estimate: NaN }) : undefined;
  const byAttribute: GroupFid[] = Array.isArray(v.byAttribute)
    ? v.byAttribute.filter(isObject).map((a) => ({
        attribute: asString(a.attribute, "?"),
        groups: Array.isArray(a.groups) ? a.groups.map(String) : [],
        fid: figures(a.perGroup) ?? [],
        kid: figures(a.perGroupKid),
        esFid: asNumber(a.esFid),
      }))
    : [];
  return {
    extractor: isObject(v.extractor) ? asString(v.extractor.name) : asString(v.extractor),
    overall: readSizedFigure(v.overall),
    overallKid: readSizedFigure(v.overallKid),
    byAttribute,
  };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function readMemorisationPair(v: Json): MemorisationPairImages | undefined {
  const generatedPng = asString(v.generatedPng);
  const trainingPng = asString(v.trainingPng);
  if (!BASE64.test(generatedPng) || !BASE64.test(trainingPng)) return undefined;
  const ratio = (x: unknown) => {
    const value = asNumber(x);
    return value === undefined ? "?" : value.toFixed(3);
  };
  const groups = isObject(v.groups)
    ? Object.entries(v.groups)
        .map(([a, g]) => `${a} ${String(g)}`)
        .join(", ")
    : "";
  return {
    generatedPng,
    trainingPng,
    width: asNumber(v.width) ?? 96,
    height: asNumber(v.height) ?? 96,
    caption: `generated #${asNumber(v.generatedIndex) ?? "?"} · training #${asNumber(v.trainingIndex) ?? "?"}${groups ? ` · ${groups}` : ""} · ratio ${ratio(v.featureRatio)} (features), ${ratio(v.pixelRatio)} (pixels)${v.nearCopy === true ? " · near-copy" : ""}`,
  };
}

function readMemorisation(v: unknown): MemorisationSection | undefined {
  if (!isObject(v)) return undefined;
  const overall = isObject(v.overall)
    ? {
        n: asNumber(v.overall.n),
        nearCopies: asNumber(v.overall.nearCopies),
        share: readFigure(v.overall.share),
      }
    : undefined;
  const byAttribute = Array.isArray(v.byAttribute)
    ? v.byAttribute.filter(isObject).map((a) => ({
        attribute: asString(a.attribute, "?"),
        groups: (Array.isArray(a.groups) ? a.groups.filter(isObject) : []).map((g) => ({
          group: asString(g.group, "?"),
          n: asNumber(g.n),
          nearCopies: asNumber(g.nearCopies),
          share: readFigure(g.share),
          nullShare: readFigure(g.nullShare),
        })),
      }))
    : [];
  const pairs = Array.isArray(v.pairs)
    ? v.pairs
        .filter(isObject)
        .map(readMemorisationPair)
        .filter((p): p is MemorisationPairImages => !!p)
    : [];
  return {
    level: isObject(v.calibration) ? asNumber(v.calibration.level) : undefined,
    overall,
    byAttribute,
    pairs,
    training: asString(v.trainingDescription) || undefined,
  };
}

function flatten(prefix: string, v: unknown, out: [string, string][]): void {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else {
    out.push([prefix, typeof v === "string" ? v : JSON.stringify(v)]);
  }
}

/** Reads a report; throws with the reason when `data` is not a fairdiff audit report. */
export function readAuditReport(data: unknown): ReadReport {
  if (!isObject(data)) throw new Error("audit report: expected a JSON object");
  if (data.kind !== AUDIT_REPORT_KIND) {
    throw new Error(
      `audit report: kind is ${JSON.stringify(data.kind)}, not "${AUDIT_REPORT_KIND}"`,
    );
  }
  const schemaVersion = asNumber(data.schemaVersion) ?? NaN;
  const warnings: string[] = [];
  if (schemaVersion !== 1) {
    warnings.push(
      `schema version ${schemaVersion}: this renderer knows version 1; shown as far as understood`,
    );
  }
  const rep = data.representation;
  const promptList = Array.isArray(rep)
    ? rep
    : isObject(rep) && Array.isArray(rep.prompts)
      ? rep.prompts
      : [];
  const manifest: [string, string][] = [];
  if (isObject(data.manifest)) flatten("", data.manifest, manifest);
  return {
    title: asString(data.title, "fairdiff audit report"),
    schemaVersion,
    createdAt: asString(data.created ?? data.createdAt) || undefined,
    prompts: promptList.map(readPrompt).filter((p): p is PromptSection => !!p),
    quality: readQuality(data.quality),
    memorisation: isObject(data.quality) ? readMemorisation(data.quality.memorisation) : undefined,
    manifest,
    warnings,
  };
}
