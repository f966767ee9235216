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

const DEFAULT_LEVEL = 0.05;
const DEFAULT_PAIRS = 8;
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
function groupsSeen(name: string, sets: readonly LabelledImages[]): string[] {
  const seen = new Set<string>();
  for (const set of sets) {
    for (const a of set.attributes) if (a[name] !== undefined) seen.add(a[name]);
  }
  return [...seen].sort();
}

function resolveAttributes(
  requested: MemorisationAuditOptions["attributes"],
  generated: LabelledImages,
  heldOut: LabelledImages,
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

interface SpaceScores {
  generated: SpaceNeighbours;
  /** Ratios of the held-out images as calibration queries (NaN: unscored). */
  nullRatio: number[];
}

/** The candidate reference rows of each query: the images that share its known groups. */
interface Neighbourhoods {
  generatedTraining: (i: number) => readonly number[];
  generatedHeldOut: (i: number) => readonly number[];
  heldOutTraining: (i: number) => readonly number[];
  heldOutHeldOut: (i: number) => readonly number[];
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

async function scoreSpace(
  rows: Record<SetName, RowMatrix>,
  neighbourhoods: Neighbourhoods,
  /** Distances are multiplied by this (1 for features; 1/√D turns Euclidean into RMS). */
  unit: number,
  signal: AbortSignal | undefined,
): Promise<SpaceScores> {
  const training = neighbourSearch(rows.training);
  const heldOut = neighbourSearch(rows.heldOut);
  const n = neighbourhoods;
  const gT = await nearestInChunks(training, rows.generated, n.generatedTraining, false, signal);
  const gH = await nearestInChunks(heldOut, rows.generated, n.generatedHeldOut, false, signal);
  const hT = await nearestInChunks(training, rows.heldOut, n.heldOutTraining, false, signal);
  const hH = await nearestInChunks(heldOut, rows.heldOut, n.heldOutHeldOut, true, signal);
  const trainingDistance = Array.from(gT.distance, (x) => x * unit);
  const heldOutDistance = Array.from(gH.distance, (x) => x * unit);
  return {
    generated: {
      nearestTraining: Array.from(gT.index),
      trainingDistance,
      heldOutDistance,
      ratio: trainingDistance.map((x, i) => ratioOf(x, heldOutDistance[i])),
    },
    nullRatio: Array.from(hT.distance, (x, i) => ratioOf(x, hH.distance[i])),
  };
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

interface PairInputs {
  scores: Record<MemorisationSpace, SpaceNeighbours>;
  thresholds: Record<MemorisationSpace, number>;
  nearCopy: boolean[];
  generated: LabelledImages;
  componentNames: readonly string[];
  rows: Record<MemorisationSpace, { generated: RowMatrix; training: RowMatrix }>;
  shape: [number, number, number];
}

/** The `count` most copy-like scored images, each beside its nearest training image. */
function choosePairs(count: number, input: PairInputs): MemorisationPair[] {
  const { scores, thresholds, nearCopy, rows, shape } = input;
  const relative = (space: MemorisationSpace, i: number) =>
    relativeRatio(scores[space].ratio[i], thresholds[space]);
  const copyLikeness = (i: number) => Math.min(relative("features", i), relative("pixels", i));
  const ranked = nearCopy
    .map((_, i) => i)
    .filter((i) => Number.isFinite(copyLikeness(i)))
    .sort((a, b) => copyLikeness(a) - copyLikeness(b) || a - b)
    .slice(0, count);
  const [height, width] = shape;
  const scale = Math.max(1, Math.ceil(PAIR_MIN_PIXELS / Math.max(width, height)));
  const pixelUnit = 1 / Math.sqrt(rows.pixels.generated.dimension);
  return ranked.map((i) => {
    const space: MemorisationSpace =
      relative("pixels", i) < relative("features", i) ? "pixels" : "features";
    const trainingIndex = scores[space].nearestTraining[i];
    const groups: Record<string, string> = {};
    for (const name of input.componentNames) {
      const group = input.generated.attributes[i][name];
      if (group !== undefined) groups[name] = group;
    }
    const pixelValues = (matrix: RowMatrix) => matrix.values as Float32Array;
    return {
      generatedIndex: i,
      trainingIndex,
      space,
      groups,
      nearCopy: nearCopy[i],
      featureRatio: scores.features.ratio[i],
      pixelRatio: scores.pixels.ratio[i],
      featureDistance: rowDistance(
        rows.features.generated,
        i,
        rows.features.training,
        trainingIndex,
      ),
      pixelDistance:
        pixelUnit * rowDistance(rows.pixels.generated, i, rows.pixels.training, trainingIndex),
      generatedPng: pngBase64(rasterOfRow(pixelValues(rows.pixels.generated), i, shape), scale),
      trainingPng: pngBase64(
        rasterOfRow(pixelValues(rows.pixels.training), trainingIndex, shape),
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
  const level = options.level ?? DEFAULT_LEVEL;
  assertLevel(level);
  const intervalLevel = options.intervalLevel ?? 0.95;
  if (!(intervalLevel > 0 && intervalLevel < 1)) {
    throw new Error(`intervalLevel must be in (0, 1), got ${String(intervalLevel)}`);
  }
  const pairCount = options.pairs ?? DEFAULT_PAIRS;
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
  const attributes = resolveAttributes(options.attributes, sets.generated, sets.heldOut);
  const generatedGroups = attributes.map((attribute) =>
    sets.generated.attributes.map((assignment, i) => {
      try {
        return groupIfKnown(attribute, assignment);
      } catch (error) {
        throw new Error(`generated[${i}]: ${(error as Error).message}`);
      }
    }),
  );
  const componentNames = [
    ...new Set(attributes.flatMap((a) => (a.components ?? [a]).map((c) => c.name))),
  ];
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
function calibrationNotes(
  inputs: CheckedInputs,
  generated: Verdicts,
  calibration: NearCopyThresholds,
  trainingRows: SameGroupRows,
  heldOutRows: SameGroupRows,
): string[] {
  const notes: string[] = [];
  const unscored = new Map<string, number>();
  inputs.sets.generated.attributes.forEach((a, i) => {
    if (generated.scored[i]) return;
    const key = trainingRows.key(a) || "no known group";
    unscored.set(key, (unscored.get(key) ?? 0) + 1);
  });
  for (const [key, count] of unscored) {
    notes.push(
      `${count} generated image(s) of {${key}} unscored: no training or no held-out image shares their groups`,
    );
  }
  const unused = inputs.counts.heldOut - calibration.queries;
  if (unused > 0) {
    notes.push(
      `${unused} held-out image(s) left out of the null: no other held-out image or no training image shares their groups`,
    );
  }
  if (calibration.queries * inputs.level < 1) {
    notes.push(
      `only ${calibration.queries} held-out images in the null: at level ${inputs.level} the thresholds sit at the null's smallest ratios; use more held-out images`,
    );
  }
  // The null ratio scales with the ratio of reference-set sizes: warn when it varies by group.
  const sizeRatios = new Map<string, number>();
  for (const a of inputs.sets.heldOut.attributes) {
    const key = heldOutRows.key(a);
    if (!sizeRatios.has(key)) {
      sizeRatios.set(key, trainingRows.rows(a).length / heldOutRows.rows(a).length);
    }
  }
  const values = [...sizeRatios.values()].filter((r) => r > 0);
  if (values.length > 1 && Math.max(...values) > 2 * Math.min(...values)) {
    notes.push(
      `training and held-out group mixes differ (training / held-out images per group: ${[...sizeRatios].map(([k, r]) => `{${k}} ${r.toFixed(1)}`).join("; ")}): the null ratio varies with that, so read each group's share against its null share`,
    );
  }
  return notes;
}

const CALIBRATION_METHOD =
  "leave-one-out over the held-out real images (each scored against the training and the other held-out images of its groups); both spaces' thresholds at one quantile of their own null, the largest at which either space flags at most level of the null";

/**
 * Near-copies of training images among generated images, overall and per group, calibrated on
 * held-out real images; with the most copy-like images beside their nearest training image.
 */
export async function auditMemorisation(
  options: MemorisationAuditOptions,
): Promise<MemorisationAudit> {
  const started = Date.now();
  const inputs = checkInputs(options);
  const { sets, counts, shape, level } = inputs;
  const features = await featureRowsOf(options, inputs);
  const perImage = shape[0] * shape[1] * shape[2];
  const pixels = {} as Record<SetName, RowMatrix>;
  for (const name of SET_NAMES) {
    pixels[name] = { values: await pixelRows(sets[name].images), dimension: perImage };
  }

  const trainingRows = new SameGroupRows(inputs.componentNames, sets.training.attributes);
  const heldOutRows = new SameGroupRows(inputs.componentNames, sets.heldOut.attributes);
  const neighbourhoods: Neighbourhoods = {
    generatedTraining: (i) => trainingRows.rows(sets.generated.attributes[i]),
    generatedHeldOut: (i) => heldOutRows.rows(sets.generated.attributes[i]),
    heldOutTraining: (i) => trainingRows.rows(sets.heldOut.attributes[i]),
    heldOutHeldOut: (i) => heldOutRows.rows(sets.heldOut.attributes[i]),
  };
  const scores: Record<MemorisationSpace, SpaceScores> = {
    features: await scoreSpace(features.rows, neighbourhoods, 1, options.signal),
    pixels: await scoreSpace(pixels, neighbourhoods, 1 / Math.sqrt(perImage), options.signal),
  };
  const nullRatios = { features: scores.features.nullRatio, pixels: scores.pixels.nullRatio };
  const calibration = calibrateNearCopyThresholds(nullRatios, level);
  const images = { features: scores.features.generated, pixels: scores.pixels.generated };
  const generated = verdicts(
    { features: images.features.ratio, pixels: images.pixels.ratio },
    calibration.thresholds,
  );
  const nullVerdicts = verdicts(nullRatios, calibration.thresholds);

  const notes = calibrationNotes(inputs, generated, calibration, trainingRows, heldOutRows);
  const byAttribute = inputs.attributes.map((attribute, k) =>
    groupTable(
      attribute,
      inputs.generatedGroups[k],
      sets.heldOut.attributes,
      generated,
      nullVerdicts,
      inputs.intervalLevel,
      notes,
    ),
  );
  const n = generated.scored.filter(Boolean).length;
  const nearCopies = generated.nearCopy.filter(Boolean).length;
  return {
    extractor: features.info,
    counts,
    calibration: {
      level,
      method: CALIBRATION_METHOD,
      ...calibration,
    } satisfies NearCopyCalibration,
    overall: {
      n,
      nearCopies,
      share: share(nearCopies, n, inputs.intervalLevel),
      unscored: counts.generated - n,
    },
    byAttribute,
    images: { ...images, nearCopy: generated.nearCopy },
    pairs: choosePairs(inputs.pairCount, {
      scores: images,
      thresholds: calibration.thresholds,
      nearCopy: generated.nearCopy,
      generated: sets.generated,
      componentNames: inputs.componentNames,
      rows: {
        features: { generated: features.rows.generated, training: features.rows.training },
        pixels: { generated: pixels.generated, training: pixels.training },
      },
      shape,
    }),
    notes,
    elapsedMs: Date.now() - started,
  };
}
