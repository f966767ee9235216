/**
 * The memorisation audit: does the generator reproduce its training images, and for which
 * groups? A model that copies its rare group's few training images has a deceptively good FID
 * for that group and leaks exactly the patients a fairness study protects. Method and limits:
 * docs/memorisation.md.
 *
 * Design:
 * - Every generated image g is compared with the training images and the held-out real images
 *   that share its known groups (for each audited attribute its labels name, the same group):
 *   d_T(g) = distance to the nearest such training image, d_H(g) = to the nearest such held-out
 *   image, r = d_T / d_H, in two spaces: the extractor's features (Euclidean) and pixels (RMS
 *   difference). A near-copy sits much closer to one training image than real images of its
 *   group sit to each other: r small.
 * - Why the training side is restricted to the same groups too: with the nearest training image
 *   of any group, an image that fails to show its prompt's group lies near the other group's
 *   training images and far from its own group's held-out ones — a low ratio without any
 *   copying. Measured on cxr-mini (300 clean generations from held-out prompts, feature space
 *   alone, threshold at the null's 5 % quantile): 5.7 % flagged that way against 0.7 % with
 *   both sides restricted, and 15 of the 17 flags had their nearest training image in another
 *   group. Restricted alike, both sides are the same kind of set and r compares like with like.
 * - The null: held-out real images are not copies by construction. Each held-out image h is
 *   scored exactly as a generated image — against the training images of its groups and the
 *   held-out images of its groups other than itself (leave-one-out). That is the reference set a
 *   generated image meets, short of one image: m − 1 instead of m references makes d_H slightly
 *   larger and r slightly smaller, so the thresholds err low (conservative). Leave-one-out rather
 *   than a split: every held-out image is both a query and a reference. With an exact search
 *   too, nothing in the audit is random, so it takes no seed.
 * - Thresholds: an image is a near-copy when either ratio is strictly below its space's
 *   threshold. Both thresholds sit at the same quantile q of their own null, q the largest for
 *   which the union flags at most level × m of the m null queries: the overall false-positive
 *   rate is ≈ level (the two spaces are calibrated jointly, so their correlation is used rather
 *   than Bonferroni's conservative level / 2 each). One pooled null: a group's own tail is too
 *   small for a 5 % quantile; instead each group's table row carries its `nullShare`, the share
 *   of its held-out images the thresholds flag, to read its near-copy share against.
 * - An image with no same-group training or held-out reference is unscored (ratio NaN, never
 *   flagged), counted apart and noted: a missing reference is evidence neither way.
 * - Shares per group with Wilson intervals; the `pairs` most copy-like images (lowest ratio /
 *   threshold over the two spaces) beside their nearest training image in that space, as
 *   magnified PNGs for the report.
 */
import type * as tf from "@tensorflow/tfjs-core";
import {
  defineAttribute,
  groupOf,
  intersectAttributes,
  INTERSECTION_SEPARATOR,
  type GroupAssignment,
  type SensitiveAttribute,
} from "../data/subgroups";
import type { Interval } from "../fairness/interval";
import {
  neighbourSearch,
  type NeighbourSearch,
  type RowMatrix,
} from "../fairness/nearestNeighbours";
import { assertLevel } from "../fairness/validation";
import { wilsonInterval } from "../fairness/wilsonInterval";
import type { FeatureExtractor, FeatureExtractorInfo } from "../features/featureExtractor";
import { defaultFeatureExtractor } from "../features/projectEncoderExtractor";
import { encodePng } from "../io/imageCodec";
import { tileImages } from "../io/imageGrid";
import type { RasterImage } from "../io/rasterImage";
import { extractAll } from "./featureRows";
import type {
  MemorisationAudit,
  MemorisationByAttribute,
  MemorisationPair,
  MemorisationSpace,
  NearCopyCalibration,
  SpaceNeighbours,
} from "./memorisationTypes";
import type { FeatureMatrix } from "./qualityFid";
import { checkLabelledImages, imageShape, type LabelledImages } from "./qualityImageSet";

/** Precomputed feature rows (e.g. the quality audit's), for any of the three sets. */
export interface MemorisationFeatures {
  /** The extractor that made the rows; an extractor used for the other sets must match it. */
  info: FeatureExtractorInfo;
  generated?: FeatureMatrix;
  training?: FeatureMatrix;
  heldOut?: FeatureMatrix;
}

export interface MemorisationAuditOptions {
  /** Generated images, labelled with the groups their prompts name. */
  generated: LabelledImages;
  /** The model's training images with their groups. */
  training: LabelledImages;
  /** Real images of the same population that were not trained on (the null). */
  heldOut: LabelledImages;
  /**
   * Attributes to break the near-copy share down by: definitions, or names (single, or an
   * intersection such as "sex×race"; groups: those seen among generated and held-out images).
   * Their single attributes also define "same group" for the reference sets.
   */
  attributes: readonly (string | SensitiveAttribute)[];
  /** Default: the project's encoder (`defaultFeatureExtractor`), disposed at the end. */
  extractor?: FeatureExtractor;
  features?: MemorisationFeatures;
  /** Target false-positive rate on images that are not copies (default 0.05). */
  level?: number;
  /** Most copy-like images shown beside their nearest training image (default 8). */
  pairs?: number;
  /** Confidence level of the shares' Wilson intervals (default 0.95). */
  intervalLevel?: number;
  /** Images per feature-extraction call (default 64). */
  batchSize?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MEMORISATION_LEVEL = 0.05;
export const DEFAULT_MEMORISATION_PAIRS = 8;
/** Queries per search call: the event loop (kernel messages, abort) breathes in between. */
const QUERY_CHUNK = 128;
/** Pair images are magnified to at least this many pixels on their longer side. */
const PAIR_MIN_PIXELS = 96;
/** Groups with fewer scored generated images get a note: their interval is wide. */
const FEW_GENERATED = 10;
/** Groups with fewer held-out images in the null get a note: their null share is rough. */
const FEW_NULL = 20;

type SetName = "generated" | "training" | "heldOut";
const SET_NAMES: readonly SetName[] = ["generated", "training", "heldOut"];

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error("memorisation audit aborted");
}

function checkCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}

/** Groups of `name` seen among the images, sorted. */
function groupsSeen(name: string, sets: readonly Pick<LabelledImages, "attributes">[]): string[] {
  const seen = new Set<string>();
  for (const set of sets) {
    for (const a of set.attributes) if (a[name] !== undefined) seen.add(a[name]);
  }
  return [...seen].sort();
}

export function resolveMemorisationAttributes(
  requested: MemorisationAuditOptions["attributes"],
  generated: Pick<LabelledImages, "attributes">,
  heldOut: Pick<LabelledImages, "attributes">,
): SensitiveAttribute[] {
  if (!Array.isArray(requested)) {
    throw new Error(`attributes must be an array of names or definitions, got ${typeof requested}`);
  }
  return requested.map((given) => {
    if (typeof given !== "string") return given;
    const parts = given.split(INTERSECTION_SEPARATOR).map((name) => {
      const groups = groupsSeen(name, [generated, heldOut]);
      if (groups.length < 2) {
        throw new Error(
          `attributes: "${name}" has ${groups.length} group(s) among the generated and held-out images ([${groups.join(", ")}]); a per-group table needs at least 2`,
        );
      }
      return defineAttribute(name, groups);
    });
    return parts.length === 1 ? parts[0] : intersectAttributes(...parts);
  });
}

/** The single attributes that define "same group" for the reference sets. */
export function memorisationComponentNames(attributes: readonly SensitiveAttribute[]): string[] {
  return [...new Set(attributes.flatMap((a) => (a.components ?? [a]).map((c) => c.name)))];
}

/** The group of an image under an attribute, or undefined when a component is unknown. */
function groupIfKnown(attribute: SensitiveAttribute, assignment: GroupAssignment) {
  const parts = attribute.components ?? [attribute];
  return parts.every((p) => assignment[p.name] !== undefined)
    ? groupOf(attribute, assignment)
    : undefined;
}

/** Which images of each set share a query's known groups: one array per distinct group set. */
class SameGroupRows {
  private readonly cache = new Map<string, number[]>();

  constructor(
    private readonly names: readonly string[],
    private readonly references: readonly GroupAssignment[],
  ) {}

  /** "sex=Female, race=Asian": the query's known groups, for lookups and notes. */
  key(assignment: GroupAssignment): string {
    return this.names
      .filter((n) => assignment[n] !== undefined)
      .map((n) => `${n}=${assignment[n]}`)
      .join(", ");
  }

  rows(assignment: GroupAssignment): number[] {
    const key = this.key(assignment);
    let rows = this.cache.get(key);
    if (!rows) {
      const known = this.names.filter((n) => assignment[n] !== undefined);
      rows = [];
      this.references.forEach((r, i) => {
        if (known.every((n) => r[n] === assignment[n])) rows!.push(i);
      });
      this.cache.set(key, rows);
    }
    return rows;
  }
}

async function pixelRows(images: RasterImage[] | tf.Tensor4D): Promise<Float32Array> {
  if (!Array.isArray(images)) return Float32Array.from(await images.data());
  const per = images[0].data.length;
  const out = new Float32Array(images.length * per);
  images.forEach((image, i) => out.set(image.data, i * per));
  return out;
}

function ratioOf(training: number, heldOut: number): number {
  if (!Number.isFinite(training) || !Number.isFinite(heldOut)) return Number.NaN;
  if (heldOut === 0) return training === 0 ? Number.NaN : Infinity;
  return training / heldOut;
}

/** Each query's nearest candidate reference, in chunks, yielding to the event loop between. */
async function nearestInChunks(
  search: NeighbourSearch,
  queries: RowMatrix,
  candidates: (i: number) => readonly number[],
  leaveOneOut: boolean,
  signal: AbortSignal | undefined,
): Promise<{ index: Int32Array; distance: Float64Array }> {
  const d = queries.dimension;
  const n = queries.values.length / d;
  const index = new Int32Array(n);
  const distance = new Float64Array(n);
  for (let start = 0; start < n; start += QUERY_CHUNK) {
    checkAborted(signal);
    const end = Math.min(n, start + QUERY_CHUNK);
    const part = search.nearest(
      { values: queries.values.subarray(start * d, end * d), dimension: d },
      {
        candidates: (i) => candidates(start + i),
        ...(leaveOneOut ? { excluded: (i: number) => start + i } : {}),
      },
    );
    index.set(part.index, start);
    distance.set(part.distance, start);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { index, distance };
}

/** One reference set (training or held-out) in both spaces, searchable. */
interface ReferenceSide {
  attributes: readonly GroupAssignment[];
  rows: Record<MemorisationSpace, RowMatrix>;
  search: Record<MemorisationSpace, NeighbourSearch>;
  /** The images that share a query's known groups. */
  sameGroup: SameGroupRows;
}

/**
 * The training and held-out sides of the audit, prepared once: every generated image, in one
 * process or spread over many (a sharded audit), is searched against the same references, and
 * the null (held-out images scored leave-one-out) and its thresholds come from them alone.
 */
export interface MemorisationReferences {
  /** [height, width, channels] of every image. */
  shape: [number, number, number];
  /** The single attributes that define "same group". */
  componentNames: readonly string[];
  training: ReferenceSide;
  heldOut: ReferenceSide;
  /** Per held-out image, its ratio in each space as a calibration query (NaN: unscored). */
  nullRatios: Record<MemorisationSpace, number[]>;
  /**
   * Training / held-out images per group set of the held-out images, in first-seen order: the
   * null ratio scales with it (a note when it varies by group).
   */
  sizeRatios: [string, number][];
}

/** Distances are multiplied by this: 1 for features, 1/√D turns a pixel distance into RMS. */
function spaceUnit(space: MemorisationSpace, shape: readonly number[]): number {
  return space === "features" ? 1 : 1 / Math.sqrt(shape[0] * shape[1] * shape[2]);
}

const SPACES: readonly MemorisationSpace[] = ["features", "pixels"];

async function referenceSide(
  set: LabelledImages,
  features: FeatureMatrix,
  componentNames: readonly string[],
  shape: readonly number[],
): Promise<ReferenceSide> {
  const rows: Record<MemorisationSpace, RowMatrix> = {
    features,
    pixels: { values: await pixelRows(set.images), dimension: shape[0] * shape[1] * shape[2] },
  };
  return {
    attributes: set.attributes,
    rows,
    search: { features: neighbourSearch(rows.features), pixels: neighbourSearch(rows.pixels) },
    sameGroup: new SameGroupRows(componentNames, set.attributes),
  };
}

/** The training and held-out references with the null scored; `features` are their rows. */
export async function prepareMemorisationReferences(input: {
  training: LabelledImages;
  heldOut: LabelledImages;
  features: { training: FeatureMatrix; heldOut: FeatureMatrix };
  componentNames: readonly string[];
  signal?: AbortSignal;
}): Promise<MemorisationReferences> {
  const shape = imageShape(input.training.images, "training");
  const names = input.componentNames;
  const training = await referenceSide(input.training, input.features.training, names, shape);
  const heldOut = await referenceSide(input.heldOut, input.features.heldOut, names, shape);
  const nullRatios = {} as Record<MemorisationSpace, number[]>;
  for (const space of SPACES) {
    const queries = heldOut.rows[space];
    const attributes = heldOut.attributes;
    const hT = await nearestInChunks(
      training.search[space],
      queries,
      (i) => training.sameGroup.rows(attributes[i]),
      false,
      input.signal,
    );
    const hH = await nearestInChunks(
      heldOut.search[space],
      queries,
      (i) => heldOut.sameGroup.rows(attributes[i]),
      true,
      input.signal,
    );
    nullRatios[space] = Array.from(hT.distance, (x, i) => ratioOf(x, hH.distance[i]));
  }
  const sizeRatios = new Map<string, number>();
  for (const a of heldOut.attributes) {
    const key = heldOut.sameGroup.key(a);
    if (!sizeRatios.has(key)) {
      sizeRatios.set(key, training.sameGroup.rows(a).length / heldOut.sameGroup.rows(a).length);
    }
  }
  return {
    shape,
    componentNames: [...names],
    training,
    heldOut,
    nullRatios,
    sizeRatios: [...sizeRatios],
  };
}

/**
 * Generated images searched against the references: per space, each image's nearest same-group
 * training image and both distances (Euclidean in features, RMS in pixels). Per image alone —
 * the same numbers whichever other images are scored with it.
 */
export type GeneratedNeighbours = Record<
  MemorisationSpace,
  { nearestTraining: number[]; trainingDistance: number[]; heldOutDistance: number[] }
>;

/** Generated images (their groups, feature rows and pixels) as memorisation queries. */
export interface MemorisationQueries {
  attributes: readonly GroupAssignment[];
  features: FeatureMatrix;
  /** Pixel values, image after image, in [0, 1]. */
  pixels: Float32Array;
}

export async function scoreGeneratedImages(
  references: MemorisationReferences,
  queries: MemorisationQueries,
  signal?: AbortSignal,
): Promise<GeneratedNeighbours> {
  const { training, heldOut, shape } = references;
  const rows: Record<MemorisationSpace, RowMatrix> = {
    features: queries.features,
    pixels: { values: queries.pixels, dimension: shape[0] * shape[1] * shape[2] },
  };
  const scores = {} as GeneratedNeighbours;
  for (const space of SPACES) {
    const unit = spaceUnit(space, shape);
    const gT = await nearestInChunks(
      training.search[space],
      rows[space],
      (i) => training.sameGroup.rows(queries.attributes[i]),
      false,
      signal,
    );
    const gH = await nearestInChunks(
      heldOut.search[space],
      rows[space],
      (i) => heldOut.sameGroup.rows(queries.attributes[i]),
      false,
      signal,
    );
    scores[space] = {
      nearestTraining: Array.from(gT.index),
      trainingDistance: Array.from(gT.distance, (x) => x * unit),
      heldOutDistance: Array.from(gH.distance, (x) => x * unit),
    };
  }
  return scores;
}

/** The per-image neighbours with their ratios, as the audit reports them. */
function withRatios(scores: GeneratedNeighbours): Record<MemorisationSpace, SpaceNeighbours> {
  const out = {} as Record<MemorisationSpace, SpaceNeighbours>;
  for (const space of SPACES) {
    const s = scores[space];
    out[space] = {
      nearestTraining: s.nearestTraining,
      trainingDistance: s.trainingDistance,
      heldOutDistance: s.heldOutDistance,
      ratio: s.trainingDistance.map((x, i) => ratioOf(x, s.heldOutDistance[i])),
    };
  }
  return out;
}

export interface NearCopyThresholds {
  thresholds: Record<MemorisationSpace, number>;
  /** Share of the null strictly below each threshold. */
  quantile: number;
  /** Null queries used (those with a ratio in some space). */
  queries: number;
  /** Null queries flagged in either space. */
  flagged: number;
}

/**
 * Thresholds at the same quantile of each space's null, the largest quantile at which the
 * union flags at most level × m of the m null queries. A NaN ratio never flags; a query NaN in
 * both spaces is not part of the null.
 */
export function calibrateNearCopyThresholds(
  nullRatios: Record<MemorisationSpace, readonly number[]>,
  level: number,
): NearCopyThresholds {
  assertLevel(level);
  const { features, pixels } = nullRatios;
  if (features.length !== pixels.length) {
    throw new Error(
      `null ratios: ${features.length} in feature space but ${pixels.length} in pixel space; one per query in each`,
    );
  }
  const used = features.flatMap((f, i) => (Number.isNaN(f) && Number.isNaN(pixels[i]) ? [] : [i]));
  const m = used.length;
  if (m === 0) {
    throw new Error(
      "no held-out image has another held-out image and a training image of its groups: the null is empty",
    );
  }
  const asValue = (r: number) => (Number.isNaN(r) ? Infinity : r);
  const f = used.map((i) => asValue(features[i]));
  const p = used.map((i) => asValue(pixels[i]));
  const sortedF = [...f].sort((a, b) => a - b);
  const sortedP = [...p].sort((a, b) => a - b);
  const flaggedAt = (k: number) => {
    let count = 0;
    for (let i = 0; i < m; i++) if (f[i] < sortedF[k] || p[i] < sortedP[k]) count++;
    return count;
  };
  // flaggedAt grows with k and flaggedAt(0) = 0: binary search for the largest k within budget.
  const budget = level * m;
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (flaggedAt(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return {
    thresholds: { features: sortedF[lo], pixels: sortedP[lo] },
    quantile: lo / m,
    queries: m,
    flagged: flaggedAt(lo),
  };
}

function share(successes: number, n: number, level: number): Interval {
  if (n === 0) {
    return { estimate: NaN, lower: NaN, upper: NaN, level, n: 0, method: "wilson" };
  }
  return wilsonInterval(successes, n, level);
}

/** How far below its threshold a ratio is (< 1: flagged); Infinity when unscored. */
function relativeRatio(ratio: number, threshold: number): number {
  if (Number.isNaN(ratio)) return Infinity;
  if (threshold > 0) return ratio / threshold;
  return ratio === 0 ? 0 : Infinity;
}

function rasterOfRow(values: Float32Array, index: number, shape: [number, number, number]) {
  const [height, width, channels] = shape;
  const per = height * width * channels;
  return {
    width,
    height,
    channels: channels as 1 | 3,
    data: values.subarray(index * per, (index + 1) * per),
  };
}

function pngBase64(image: RasterImage, scale: number): string {
  const magnified = tileImages([image], { columns: 1, gap: 0, scale });
  return Buffer.from(encodePng(magnified)).toString("base64");
}

/** Euclidean distance between row i of `a` and row j of `b`, both of `per` values. */
function rowDistance(a: RowMatrix, i: number, b: RowMatrix, j: number): number {
  const per = a.dimension;
  let sum = 0;
  for (let k = 0; k < per; k++) {
    const diff = a.values[i * per + k] - b.values[j * per + k];
    sum += diff * diff;
  }
  return Math.sqrt(sum);
}

/** How copy-like an image is: its lowest ratio / threshold over the two spaces (< 1: flagged). */
function copyLikeness(
  featureRatio: number,
  pixelRatio: number,
  thresholds: Record<MemorisationSpace, number>,
): number {
  return Math.min(
    relativeRatio(featureRatio, thresholds.features),
    relativeRatio(pixelRatio, thresholds.pixels),
  );
}

/**
 * Most copy-like first, ties by image index; unscored images (no finite ratio) left out. A total
 * order: the `count` best of a union of sets are the `count` best of the sets' own best.
 */
export function mostCopyLike(
  pairs: readonly MemorisationPair[],
  thresholds: Record<MemorisationSpace, number>,
  count: number,
): MemorisationPair[] {
  const key = (p: MemorisationPair) => copyLikeness(p.featureRatio, p.pixelRatio, thresholds);
  return pairs
    .filter((p) => Number.isFinite(key(p)))
    .sort((a, b) => key(a) - key(b) || a.generatedIndex - b.generatedIndex)
    .slice(0, count);
}

/**
 * The `count` most copy-like of some generated images, each beside its nearest training image
 * (in the space where it is most copy-like), numbered from `firstIndex`. A sharded audit takes
 * each shard's own best and keeps the best of their union (`mostCopyLike`): the same pairs.
 */
export function memorisationPairs(
  references: MemorisationReferences,
  thresholds: Record<MemorisationSpace, number>,
  queries: MemorisationQueries,
  scores: GeneratedNeighbours,
  firstIndex: number,
  count: number,
): MemorisationPair[] {
  const { shape, training } = references;
  const ratios = withRatios(scores);
  const nearCopy = (i: number) =>
    ratios.features.ratio[i] < thresholds.features || ratios.pixels.ratio[i] < thresholds.pixels;
  const relative = (space: MemorisationSpace, i: number) =>
    relativeRatio(ratios[space].ratio[i], thresholds[space]);
  const ranked = ratios.features.ratio
    .map((_, i) => i)
    .filter((i) => Number.isFinite(Math.min(relative("features", i), relative("pixels", i))))
    .sort(
      (a, b) =>
        Math.min(relative("features", a), relative("pixels", a)) -
          Math.min(relative("features", b), relative("pixels", b)) || a - b,
    )
    .slice(0, count);
  const [height, width] = shape;
  const scale = Math.max(1, Math.ceil(PAIR_MIN_PIXELS / Math.max(width, height)));
  const generated = {
    features: queries.features,
    pixels: { values: queries.pixels, dimension: shape[0] * shape[1] * shape[2] },
  };
  const pixelUnit = spaceUnit("pixels", shape);
  return ranked.map((i) => {
    const space: MemorisationSpace =
      relative("pixels", i) < relative("features", i) ? "pixels" : "features";
    const trainingIndex = ratios[space].nearestTraining[i];
    const groups: Record<string, string> = {};
    for (const name of references.componentNames) {
      const group = queries.attributes[i][name];
      if (group !== undefined) groups[name] = group;
    }
    const pixelValues = (matrix: RowMatrix) => matrix.values as Float32Array;
    return {
      generatedIndex: firstIndex + i,
      trainingIndex,
      space,
      groups,
      nearCopy: nearCopy(i),
      featureRatio: ratios.features.ratio[i],
      pixelRatio: ratios.pixels.ratio[i],
      featureDistance: rowDistance(generated.features, i, training.rows.features, trainingIndex),
      pixelDistance:
        pixelUnit * rowDistance(generated.pixels, i, training.rows.pixels, trainingIndex),
      generatedPng: pngBase64(rasterOfRow(pixelValues(generated.pixels), i, shape), scale),
      trainingPng: pngBase64(
        rasterOfRow(pixelValues(training.rows.pixels), trainingIndex, shape),
        scale,
      ),
      scale,
      width: width * scale,
      height: height * scale,
    };
  });
}

interface CheckedInputs {
  sets: Record<SetName, LabelledImages>;
  counts: Record<SetName, number>;
  /** [height, width, channels], the same for all three sets. */
  shape: [number, number, number];
  level: number;
  intervalLevel: number;
  pairCount: number;
  batchSize: number;
  attributes: SensitiveAttribute[];
  /** Per attribute, per generated image: its group, undefined when unknown. */
  generatedGroups: (string | undefined)[][];
  /** The single attributes that define "same group". */
  componentNames: string[];
}

/** Every option checked before any work starts. */
function checkInputs(options: MemorisationAuditOptions): CheckedInputs {
  const sets: Record<SetName, LabelledImages> = {
    generated: options.generated,
    training: options.training,
    heldOut: options.heldOut,
  };
  const counts = {
    generated: checkLabelledImages(sets.generated, "generated"),
    training: checkLabelledImages(sets.training, "training"),
    heldOut: checkLabelledImages(sets.heldOut, "heldOut"),
  };
  if (counts.heldOut < 2) {
    throw new Error(
      `heldOut has ${counts.heldOut} image; leave-one-out calibration needs 2 or more`,
    );
  }
  const shape = imageShape(sets.generated.images, "generated");
  for (const name of ["training", "heldOut"] as const) {
    const other = imageShape(sets[name].images, name);
    if (other.join("×") !== shape.join("×")) {
      throw new Error(
        `${name} images are ${other.join("×")}, generated images ${shape.join("×")}: pixel distances need one size`,
      );
    }
  }
  const level = options.level ?? DEFAULT_MEMORISATION_LEVEL;
  assertLevel(level);
  const intervalLevel = options.intervalLevel ?? 0.95;
  if (!(intervalLevel > 0 && intervalLevel < 1)) {
    throw new Error(`intervalLevel must be in (0, 1), got ${String(intervalLevel)}`);
  }
  const pairCount = options.pairs ?? DEFAULT_MEMORISATION_PAIRS;
  checkCount(pairCount, "pairs", 0);
  const batchSize = options.batchSize ?? 64;
  checkCount(batchSize, "batchSize", 1);
  const given = options.features;
  for (const name of SET_NAMES) {
    const matrix = given?.[name];
    if (
      matrix &&
      (matrix.dimension !== given!.info.dimension ||
        matrix.values.length !== counts[name] * matrix.dimension)
    ) {
      throw new Error(
        `features.${name} has ${matrix.values.length} values of dimension ${matrix.dimension}; expected ${counts[name]} images × ${given!.info.dimension} (features.info.dimension)`,
      );
    }
  }
  const attributes = resolveMemorisationAttributes(
    options.attributes,
    sets.generated,
    sets.heldOut,
  );
  const generatedGroups = attributes.map((attribute) =>
    sets.generated.attributes.map((assignment, i) => {
      try {
        return groupIfKnown(attribute, assignment);
      } catch (error) {
        throw new Error(`generated[${i}]: ${(error as Error).message}`);
      }
    }),
  );
  const componentNames = memorisationComponentNames(attributes);
  return {
    sets,
    counts,
    shape,
    level,
    intervalLevel,
    pairCount,
    batchSize,
    attributes,
    generatedGroups,
    componentNames,
  };
}

/**
 * Feature rows of the three sets: the given ones, the rest extracted (default extractor made
 * and disposed here when none is given and some set needs it).
 */
async function featureRowsOf(
  options: MemorisationAuditOptions,
  inputs: CheckedInputs,
): Promise<{ info: FeatureExtractorInfo; rows: Record<SetName, FeatureMatrix> }> {
  const given = options.features;
  const missing = SET_NAMES.filter((name) => !given?.[name]);
  if (missing.length === 0)
    return { info: given!.info, rows: given as Record<SetName, FeatureMatrix> };
  const owned = options.extractor === undefined;
  const extractor = options.extractor ?? defaultFeatureExtractor();
  try {
    const { name, dimension } = extractor.info;
    if (given && (name !== given.info.name || dimension !== given.info.dimension)) {
      throw new Error(
        `extractor "${name}" (${dimension} dimensions) did not make features "${given.info.name}" (${given.info.dimension}): pass the options.extractor that did, or features for all three sets`,
      );
    }
    const rows = {} as Record<SetName, FeatureMatrix>;
    for (const set of SET_NAMES) {
      rows[set] =
        given?.[set] ??
        (await extractAll(extractor, inputs.sets[set].images, {
          batchSize: inputs.batchSize,
          signal: options.signal,
          abortMessage: "memorisation audit aborted",
        }));
    }
    return { info: { ...extractor.info }, rows };
  } finally {
    if (owned) extractor.dispose();
  }
}

/** Per image: flagged (either ratio below its threshold), and scored (a ratio in some space). */
interface Verdicts {
  nearCopy: boolean[];
  scored: boolean[];
}

function verdicts(
  ratios: Record<MemorisationSpace, readonly number[]>,
  thresholds: Record<MemorisationSpace, number>,
): Verdicts {
  const { features, pixels } = ratios;
  return {
    nearCopy: features.map((f, i) => f < thresholds.features || pixels[i] < thresholds.pixels),
    scored: features.map((f, i) => !(Number.isNaN(f) && Number.isNaN(pixels[i]))),
  };
}

/** One attribute's table: per group, the generated images' near-copy share and the null's. */
function groupTable(
  attribute: SensitiveAttribute,
  generatedGroups: readonly (string | undefined)[],
  heldOut: readonly GroupAssignment[],
  generated: Verdicts,
  nullVerdicts: Verdicts,
  intervalLevel: number,
  notes: string[],
): MemorisationByAttribute {
  const heldOutGroups = heldOut.map((a) => {
    try {
      return groupIfKnown(attribute, a);
    } catch {
      return undefined; // a held-out group outside the attribute's definition: not tabled
    }
  });
  const tally = (groups: readonly (string | undefined)[], v: Verdicts, group: string) => {
    let n = 0;
    let flagged = 0;
    let unscored = 0;
    groups.forEach((g, i) => {
      if (g !== group) return;
      if (!v.scored[i]) unscored++;
      else {
        n++;
        if (v.nearCopy[i]) flagged++;
      }
    });
    return { n, flagged, unscored };
  };
  return {
    attribute: attribute.name,
    groups: attribute.groups.map((group) => {
      const own = tally(generatedGroups, generated, group);
      const nul = tally(heldOutGroups, nullVerdicts, group);
      const label = `${attribute.name} = ${group}`;
      if (own.n > 0 && own.n < FEW_GENERATED) {
        notes.push(`${label}: only ${own.n} scored generated images; its interval is wide`);
      }
      if (nul.n < FEW_NULL) {
        notes.push(`${label}: only ${nul.n} held-out images in the null; its null share is rough`);
      }
      return {
        group,
        n: own.n,
        nearCopies: own.flagged,
        share: share(own.flagged, own.n, intervalLevel),
        nullShare: share(nul.flagged, nul.n, intervalLevel),
        unscored: own.unscored,
      };
    }),
  };
}

/** Notes on what was not scored and on how far the null can be trusted. */
/** "sex=Female, race=Asian": an image's known groups among `names`, for notes. */
function groupKey(names: readonly string[], assignment: GroupAssignment): string {
  return names
    .filter((n) => assignment[n] !== undefined)
    .map((n) => `${n}=${assignment[n]}`)
    .join(", ");
}

/** Notes on what was not scored and on how far the null can be trusted. */
function calibrationNotes(
  input: MemorisationStatisticsInput,
  generated: Verdicts,
  calibration: NearCopyThresholds,
): string[] {
  const notes: string[] = [];
  const unscored = new Map<string, number>();
  input.generatedAttributes.forEach((a, i) => {
    if (generated.scored[i]) return;
    const key = groupKey(input.componentNames, a) || "no known group";
    unscored.set(key, (unscored.get(key) ?? 0) + 1);
  });
  for (const [key, count] of unscored) {
    notes.push(
      `${count} generated image(s) of {${key}} unscored: no training or no held-out image shares their groups`,
    );
  }
  const unused = input.counts.heldOut - calibration.queries;
  if (unused > 0) {
    notes.push(
      `${unused} held-out image(s) left out of the null: no other held-out image or no training image shares their groups`,
    );
  }
  if (calibration.queries * input.level < 1) {
    notes.push(
      `only ${calibration.queries} held-out images in the null: at level ${input.level} the thresholds sit at the null's smallest ratios; use more held-out images`,
    );
  }
  // The null ratio scales with the ratio of reference-set sizes: warn when it varies by group.
  const values = input.sizeRatios.map(([, r]) => r).filter((r) => r > 0);
  if (values.length > 1 && Math.max(...values) > 2 * Math.min(...values)) {
    notes.push(
      `training and held-out group mixes differ (training / held-out images per group: ${input.sizeRatios.map(([k, r]) => `{${k}} ${r.toFixed(1)}`).join("; ")}): the null ratio varies with that, so read each group's share against its null share`,
    );
  }
  return notes;
}

const CALIBRATION_METHOD =
  "leave-one-out over the held-out real images (each scored against the training and the other held-out images of its groups); both spaces' thresholds at one quantile of their own null, the largest at which either space flags at most level of the null";

/**
 * Everything the audit's figures are computed from once every generated image is scored: what
 * a sharded audit gathers from its shards (each image's neighbours, each shard's best pairs)
 * and its references (the null).
 */
export interface MemorisationStatisticsInput {
  extractor: FeatureExtractorInfo;
  /** Attributes and intersections tabled, with their groups. */
  attributes: readonly SensitiveAttribute[];
  componentNames: readonly string[];
  counts: { generated: number; training: number; heldOut: number };
  generatedAttributes: readonly GroupAssignment[];
  heldOutAttributes: readonly GroupAssignment[];
  /** Every generated image's neighbours, in image order. */
  neighbours: GeneratedNeighbours;
  nullRatios: Record<MemorisationSpace, readonly number[]>;
  sizeRatios: readonly (readonly [string, number])[];
  level: number;
  intervalLevel: number;
  /** Candidate pairs (at least the `pairCount` most copy-like images among them). */
  pairs: readonly MemorisationPair[];
  pairCount: number;
}

/** The near-copy thresholds of a level, from the references' null. */
export function nearCopyThresholds(
  nullRatios: Record<MemorisationSpace, readonly number[]>,
  level: number,
): NearCopyThresholds {
  return calibrateNearCopyThresholds(nullRatios, level);
}

/** The audit's tables, calibration, notes and pairs from the scored images. */
export function memorisationStatistics(
  input: MemorisationStatisticsInput,
): Omit<MemorisationAudit, "elapsedMs"> {
  const generatedGroups = input.attributes.map((attribute) =>
    input.generatedAttributes.map((assignment, i) => {
      try {
        return groupIfKnown(attribute, assignment);
      } catch (error) {
        throw new Error(`generated[${i}]: ${(error as Error).message}`);
      }
    }),
  );
  const calibration = calibrateNearCopyThresholds(input.nullRatios, input.level);
  const images = withRatios(input.neighbours);
  const generated = verdicts(
    { features: images.features.ratio, pixels: images.pixels.ratio },
    calibration.thresholds,
  );
  const nullVerdicts = verdicts(input.nullRatios, calibration.thresholds);
  const notes = calibrationNotes(input, generated, calibration);
  const byAttribute = input.attributes.map((attribute, k) =>
    groupTable(
      attribute,
      generatedGroups[k],
      input.heldOutAttributes,
      generated,
      nullVerdicts,
      input.intervalLevel,
      notes,
    ),
  );
  const n = generated.scored.filter(Boolean).length;
  const nearCopies = generated.nearCopy.filter(Boolean).length;
  return {
    extractor: input.extractor,
    counts: input.counts,
    calibration: {
      level: input.level,
      method: CALIBRATION_METHOD,
      ...calibration,
    } satisfies NearCopyCalibration,
    overall: {
      n,
      nearCopies,
      share: share(nearCopies, n, input.intervalLevel),
      unscored: input.counts.generated - n,
    },
    byAttribute,
    images: { ...images, nearCopy: generated.nearCopy },
    pairs: mostCopyLike(input.pairs, calibration.thresholds, input.pairCount),
    notes,
  };
}

/**
 * Near-copies of training images among generated images, overall and per group, calibrated on
 * held-out real images; with the most copy-like images beside their nearest training image.
 */
export async function auditMemorisation(
  options: MemorisationAuditOptions,
): Promise<MemorisationAudit> {
  const started = Date.now();
  const inputs = checkInputs(options);
  const { sets, counts, level } = inputs;
  const features = await featureRowsOf(options, inputs);
  const references = await prepareMemorisationReferences({
    training: sets.training,
    heldOut: sets.heldOut,
    features: { training: features.rows.training, heldOut: features.rows.heldOut },
    componentNames: inputs.componentNames,
    signal: options.signal,
  });
  const queries: MemorisationQueries = {
    attributes: sets.generated.attributes,
    features: features.rows.generated,
    pixels: await pixelRows(sets.generated.images),
  };
  const neighbours = await scoreGeneratedImages(references, queries, options.signal);
  const thresholds = calibrateNearCopyThresholds(references.nullRatios, level).thresholds;
  const statistics = memorisationStatistics({
    extractor: features.info,
    attributes: inputs.attributes,
    componentNames: inputs.componentNames,
    counts,
    generatedAttributes: sets.generated.attributes,
    heldOutAttributes: sets.heldOut.attributes,
    neighbours,
    nullRatios: references.nullRatios,
    sizeRatios: references.sizeRatios,
    level,
    intervalLevel: inputs.intervalLevel,
    pairs: memorisationPairs(references, thresholds, queries, neighbours, 0, inputs.pairCount),
    pairCount: inputs.pairCount,
  });
  return { ...statistics, elapsedMs: Date.now() - started };
}
