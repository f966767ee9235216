/**
 * The quality audit: is image quality equal across subgroups? (FairDiffusion's per-group FID and
 * clinical semantic correlation, METHODS.md "Quality metrics"; KID beside every FID.)
 *
 * Design:
 * - Real images come with their labels — attribute → group, finding → 0/1 — e.g. a held-out draw
 *   of the training preset's synthetic cohort (`heldOutRealSamples`) or a real dataset's samples.
 * - Generated images: by default one per real image, from that real image's own prompt, so the
 *   generated and real sets have the same composition (same groups, same findings, same counts).
 *   Image i is seeded by (generation seed, i) as `generateImages` does, so an audit re-runs
 *   exactly. Pre-generated images with their labels can be given instead.
 * - A generated image belongs to the group its prompt names (`labelsFromPrompts`); a real image
 *   to its label. A prompt that names no group of an attribute leaves that image out of the
 *   attribute's per-group figures (it still counts overall).
 * - Features come from one extractor (default: the project's encoder, the shipped classifier's
 *   penultimate layer), in batches; statistics are mergeable, so group figures are sums of rows.
 * - FID overall (all generated vs all real); per attribute, FID_g = generated group g vs real
 *   group g; ES-FID = FID + Σ_g |FID_g − FID| over the groups that have a figure (fairdiff's
 *   stated definition). A group with fewer than `minGroupImages` images on either side gets NaN
 *   and a note.
 * - Sample size matters: FID is biased upward at small n (roughly in proportion to d / n), so a
 *   rare group's FID is higher for that reason alone. `equalGroupSizes` subsamples every group
 *   of an attribute (both sides, seeded) to the smallest group's size, so group figures compare
 *   like with like; notes flag unequal sizes and n ≤ d otherwise.
 * - KID (Bińkowski et al.; `src/fairness/kernelInceptionDistance.ts`) beside every FID, on by
 *   default: unbiased at any n, so small groups do not read worse for their size alone, with a
 *   seeded half-sampling interval. Cheap next to generation (O(n² d) on the features).
 * - Intersections (e.g. sex × race) get the same per-group figures as single attributes, in
 *   entries named "sex×race" with groups "Female×Asian"… (the naming of `src/data/subgroups.ts`).
 * - Optional bootstrap interval (generated and real resampled apart), cheap for d ≤ ~100.
 * - Clinical semantic correlation (`clinicalCorrelation.ts`) when `clinical` is given: a finding
 *   classifier trained on the generated images only, tested on the real ones.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { MedicalSample } from "../data/medicalSample";
import {
  defineAttribute,
  INTERSECTION_SEPARATOR,
  intersectAttributes,
  type GroupAssignment,
  type SensitiveAttribute,
} from "../data/subgroups";
import { equityScaledFid } from "../fairness/equityScaled";
import { assertLevel, assertPositiveInteger } from "../fairness/validation";
import { defaultFeatureExtractor } from "../features/projectEncoderExtractor";
import type { FeatureExtractor } from "../features/featureExtractor";
import type { RasterImage } from "../io/rasterImage";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { generateImages, type GenerateOptions } from "../pipeline/textToImage";
import { createRng, hashString } from "../util/random";
import { clinicalCorrelation, type ClinicalOptions } from "./clinicalCorrelation";
import { extractAll, extractRows } from "./featureRows";
import { auditMemorisation } from "./memorisationAudit";
import {
  fidOfRows,
  kidOfRows,
  type FeatureMatrix,
  type FidBootstrapOptions,
  type KidOptions,
} from "./qualityFid";
import {
  checkLabelledImages,
  imageShape,
  labelledImagesFromSamples,
  labelsFromPrompts,
  type LabelledImages,
} from "./qualityImageSet";
import type { FidFigure, GroupQuality, KidFigure, QualityAudit } from "./qualityTypes";

export interface QualityProgress {
  stage: "generating" | "features" | "clinical" | "memorisation";
  done: number;
  total: number;
}

export interface QualityMemorisationOptions {
  /** The images the model was trained on, with their groups. */
  training: LabelledImages;
  /** Where the training images come from, in words, for the report. */
  trainingDescription?: string;
  /** Target false-positive rate on images that are not copies (default 0.05). */
  level?: number;
  /** Most copy-like images shown beside their nearest training image (default 8). */
  pairs?: number;
}

export interface QualityAuditOptions {
  /** Real images with their labels: dataset samples or a labelled set. */
  real: readonly MedicalSample[] | LabelledImages;
  /** Pre-generated images with labels (default: one per real image, from its prompt). */
  generated?: LabelledImages;
  seed: number;
  /** Default: the project's encoder (`defaultFeatureExtractor`), disposed at the end. */
  extractor?: FeatureExtractor;
  /**
   * Attributes to break FID down by: definitions (groups in that order) or names (groups: those
   * seen among the real images, sorted). Default: every attribute the real images carry that
   * the generated images' prompts name too.
   */
  attributes?: readonly (string | SensitiveAttribute)[];
  /**
   * Intersections to break FID and KID down by too, each a list of attribute names, e.g.
   * [["sex", "race"]] for an entry "sex×race" with groups "Female×Asian"…; each component's
   * groups as for `attributes`. Always audited once asked for.
   */
  intersections?: readonly (readonly string[])[];
  generation?: Pick<GenerateOptions, "steps" | "guidanceScale" | "scheduler" | "eta" | "batchSize">;
  /** Images per feature-extraction call (default 64). */
  batchSize?: number;
  /** Fewest images a group needs on each side for a figure (default 10; at least 2). */
  minGroupImages?: number;
  /** Subsample every group of an attribute to the smallest group's size (default false). */
  equalGroupSizes?: boolean;
  /** Percentile bootstrap of every FID figure (default: none). */
  bootstrap?: { resamples: number; level?: number };
  /**
   * KID beside every FID (default on: `true`, 100 half-samples, level 0.95); `false` turns it
   * off. Half-samples and level of its interval may be given.
   */
  kid?: boolean | { subsets?: number; level?: number };
  /** Clinical semantic correlation (default: not run). `true` = default options. */
  clinical?: ClinicalOptions | boolean;
  /**
   * Memorisation audit (default: not run): near-copies of the model's training images among the
   * generated ones, per group, with the real images as the held-out null (memorisationAudit.ts,
   * docs/memorisation.md). Reuses this audit's features and generated images.
   */
  memorisation?: QualityMemorisationOptions;
  signal?: AbortSignal;
  onProgress?: (progress: QualityProgress) => void;
}

const DEFAULT_MIN_GROUP_IMAGES = 10;

const ABORTED = "quality audit aborted";

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error(ABORTED);
}

function subSeed(seed: number, label: string): number {
  return (seed ^ hashString(label)) >>> 0;
}

/** The memorisation options, checked before any image is generated. */
function checkMemorisationOptions(
  options: QualityMemorisationOptions,
  realShape: readonly number[],
): void {
  checkLabelledImages(options.training, "memorisation.training");
  const shape = imageShape(options.training.images, "memorisation.training");
  if (shape.join("×") !== realShape.join("×")) {
    throw new Error(
      `memorisation.training images are ${shape.join("×")}, the real images ${realShape.join("×")}: near-copies need one size`,
    );
  }
  if (options.level !== undefined) {
    try {
      assertLevel(options.level);
    } catch {
      throw new Error(`memorisation.level must be in (0, 1), got ${String(options.level)}`);
    }
  }
  if (options.pairs !== undefined && !(Number.isInteger(options.pairs) && options.pairs >= 0)) {
    throw new Error(`memorisation.pairs must be an integer ≥ 0, got ${String(options.pairs)}`);
  }
}

/** An attribute named but not defined: its groups are those seen among the real images. */
function attributeFromReal(name: string, real: LabelledImages): SensitiveAttribute {
  const groups = [
    ...new Set(real.attributes.map((a) => a[name]).filter((g) => g !== undefined)),
  ].sort();
  if (groups.length < 2) {
    throw new Error(
      `attribute "${name}" has ${groups.length} group(s) among the real images ([${groups.join(", ")}]); per-group FID needs at least 2`,
    );
  }
  return defineAttribute(name, groups);
}

function resolveAttributes(
  requested: QualityAuditOptions["attributes"],
  real: LabelledImages,
): SensitiveAttribute[] {
  const names = requested
    ? requested.map((a) => (typeof a === "string" ? a : a.name))
    : [...new Set(real.attributes.flatMap((a) => Object.keys(a)))];
  return names.map((name, k) => {
    const given = requested?.[k];
    if (given !== undefined && typeof given !== "string") return given;
    return attributeFromReal(name, real);
  });
}

/** Each intersection from its components: defined ones as given, others from the real images. */
function resolveIntersections(
  requested: QualityAuditOptions["intersections"],
  attributes: readonly SensitiveAttribute[],
  real: LabelledImages,
): SensitiveAttribute[] {
  return (requested ?? []).map((names, k) => {
    if (!Array.isArray(names) || names.length < 2 || new Set(names).size !== names.length) {
      throw new Error(
        `intersections[${k}] = ${JSON.stringify(names)} must name two or more different attributes, e.g. ["sex", "race"]`,
      );
    }
    try {
      return intersectAttributes(
        ...names.map(
          (name) => attributes.find((a) => a.name === name) ?? attributeFromReal(name, real),
        ),
      );
    } catch (error) {
      throw new Error(
        `intersections[${k}] (${names.join(INTERSECTION_SEPARATOR)}): ${(error as Error).message}`,
      );
    }
  });
}

/** The KID options the audit runs with, or undefined when KID is off; checked before any work. */
function resolveKid(kid: QualityAuditOptions["kid"]): Omit<KidOptions, "seed"> | undefined {
  if (kid === false) return undefined;
  if (kid === undefined || kid === true) return {};
  if (typeof kid !== "object" || kid === null) {
    throw new Error(`kid must be true, false or { subsets?, level? }, got ${String(kid)}`);
  }
  if (kid.subsets !== undefined) assertPositiveInteger(kid.subsets, "kid.subsets");
  if (kid.level !== undefined) {
    try {
      assertLevel(kid.level);
    } catch {
      throw new Error(`kid.level must be in (0, 1), got ${String(kid.level)}`);
    }
  }
  return { subsets: kid.subsets, level: kid.level };
}

function tensorToRasters(images: tf.Tensor4D, values: Float32Array): RasterImage[] {
  const [n, height, width, channels] = images.shape;
  if (channels !== 1 && channels !== 3) {
    throw new Error(`images have ${channels} channels; fairdiff images have 1 or 3`);
  }
  const per = height * width * channels;
  return Array.from({ length: n }, (_, i) => ({
    width,
    height,
    channels,
    data: values.slice(i * per, (i + 1) * per),
  }));
}

async function asRasters(images: RasterImage[] | tf.Tensor4D): Promise<RasterImage[]> {
  if (Array.isArray(images)) return images;
  return tensorToRasters(images, (await images.data()) as Float32Array);
}

interface GeneratedSet {
  /** Labels (and images, when kept) of the generated set. */
  set: LabelledImages;
  count: number;
  features: FeatureMatrix;
  /** Kept only when the clinical probe needs them. */
  rasters?: RasterImage[];
}

async function generateCounterparts(
  model: LatentDiffusionModel | null,
  real: LabelledImages,
  attributes: SensitiveAttribute[],
  findings: string[],
  extractor: FeatureExtractor,
  options: QualityAuditOptions,
  keepRasters: boolean,
): Promise<GeneratedSet> {
  if (!model) throw new Error("auditQuality needs a model unless options.generated is given");
  const prompts = real.prompts;
  if (!prompts) {
    throw new Error("the real images have no prompts to generate from; give options.generated");
  }
  const drawn = [model.config.imageSize, model.config.imageSize, model.config.imageChannels];
  const realShape = imageShape(real.images, "real images");
  if (drawn.join("×") !== realShape.join("×")) {
    throw new Error(
      `the model draws ${drawn.join("×")} images, the real images are ${realShape.join("×")}: FID needs one size`,
    );
  }
  const n = prompts.length;
  const chunk = options.generation?.batchSize ?? 32;
  const seed = subSeed(options.seed, "quality:generation");
  const values = new Float64Array(n * extractor.info.dimension);
  const rasters: RasterImage[] = [];
  for (let start = 0; start < n; start += chunk) {
    checkAborted(options.signal);
    const part = prompts.slice(start, start + chunk);
    const images = await generateImages(model, part, {
      ...options.generation,
      batchSize: chunk,
      seed,
      firstIndex: start,
      signal: options.signal,
    });
    try {
      values.set(await extractRows(extractor, images), start * extractor.info.dimension);
      if (keepRasters) rasters.push(...(await asRasters(images)));
    } finally {
      images.dispose();
    }
    options.onProgress?.({ stage: "generating", done: start + part.length, total: n });
  }
  return {
    set: { images: rasters, prompts, ...labelsFromPrompts(prompts, attributes, findings) },
    count: n,
    features: { values, dimension: extractor.info.dimension },
    ...(keepRasters ? { rasters } : {}),
  };
}

/** The image's group under `attribute` ("Female×Asian" for an intersection), if it has one. */
function groupName(attribute: SensitiveAttribute, assignment: GroupAssignment): string | undefined {
  const parts = (attribute.components ?? [attribute]).map((c) => assignment[c.name]);
  return parts.some((p) => p === undefined) ? undefined : parts.join(INTERSECTION_SEPARATOR);
}

function rowsWhere(set: LabelledImages, attribute: SensitiveAttribute, group: string): number[] {
  const rows: number[] = [];
  set.attributes.forEach((a, i) => {
    if (groupName(attribute, a) === group) rows.push(i);
  });
  return rows;
}

function missingFigure(nGenerated: number, nReal: number): FidFigure {
  return { value: Number.NaN, nGenerated, nReal };
}

function missingKid(nGenerated: number, nReal: number): KidFigure {
  return { value: Number.NaN, nGenerated, nReal, subsets: 0 };
}

function groupQuality(
  attribute: SensitiveAttribute,
  overall: number,
  generated: { set: LabelledImages; features: FeatureMatrix },
  real: { set: LabelledImages; features: FeatureMatrix },
  options: QualityAuditOptions,
  minGroupImages: number,
  kid: Omit<KidOptions, "seed"> | undefined,
): GroupQuality {
  const notes: string[] = [];
  const d = real.features.dimension;
  const groups = [...attribute.groups];
  let generatedRows = groups.map((g) => rowsWhere(generated.set, attribute, g));
  let realRows = groups.map((g) => rowsWhere(real.set, attribute, g));
  const enough = groups.map(
    (_, k) => generatedRows[k].length >= minGroupImages && realRows[k].length >= minGroupImages,
  );
  groups.forEach((g, k) => {
    if (!enough[k]) {
      notes.push(
        `${attribute.name} = ${g}: ${generatedRows[k].length} generated and ${realRows[k].length} real images, fewer than ${minGroupImages} on a side; no FID${kid ? " or KID" : ""}`,
      );
    }
  });
  if (options.equalGroupSizes) {
    const sizes = groups.flatMap((_, k) =>
      enough[k] ? [Math.min(generatedRows[k].length, realRows[k].length)] : [],
    );
    if (sizes.length > 0) {
      const m = Math.min(...sizes);
      const rng = createRng(subSeed(options.seed, `quality:equalize:${attribute.name}`));
      const pick = (rows: number[]) =>
        rng
          .shuffle([...rows])
          .slice(0, m)
          .sort((a, b) => a - b);
      generatedRows = generatedRows.map((rows, k) => (enough[k] ? pick(rows) : rows));
      realRows = realRows.map((rows, k) => (enough[k] ? pick(rows) : rows));
      notes.push(
        `${attribute.name}: every group subsampled to ${m} generated and ${m} real images`,
      );
    }
  } else {
    const sizes = groups.flatMap((_, k) => (enough[k] ? [realRows[k].length] : []));
    if (sizes.length > 1 && Math.max(...sizes) > 1.5 * Math.min(...sizes)) {
      notes.push(
        `${attribute.name}: group sizes differ (${sizes.join(", ")} real images); FID is biased upward at small n, so smaller groups read worse — ${kid ? "KID is not, compare groups by KID, or " : ""}use equalGroupSizes to compare like with like`,
      );
    }
  }
  const perGroup = groups.map((g, k) => {
    if (!enough[k]) return missingFigure(generatedRows[k].length, realRows[k].length);
    const n = Math.min(generatedRows[k].length, realRows[k].length);
    if (n <= d) {
      notes.push(
        `${attribute.name} = ${g}: ${n} images ≤ ${d} feature dimensions; covariance rank-deficient, FID biased upward`,
      );
    }
    const bootstrap: FidBootstrapOptions | undefined = options.bootstrap && {
      ...options.bootstrap,
      seed: subSeed(options.seed, `quality:bootstrap:${attribute.name}:${g}`),
    };
    return fidOfRows(generated.features, generatedRows[k], real.features, realRows[k], bootstrap);
  });
  const perGroupKid = kid
    ? groups.map((g, k) => {
        if (!enough[k]) return missingKid(generatedRows[k].length, realRows[k].length);
        if (generatedRows[k].length < 4 || realRows[k].length < 4) {
          notes.push(
            `${attribute.name} = ${g}: fewer than 4 images on a side; KID without interval`,
          );
        }
        return kidOfRows(generated.features, generatedRows[k], real.features, realRows[k], {
          ...kid,
          seed: subSeed(options.seed, `quality:kid:${attribute.name}:${g}`),
        });
      })
    : undefined;
  const finite: Record<string, number> = {};
  groups.forEach((g, k) => {
    if (Number.isFinite(perGroup[k].value)) finite[g] = perGroup[k].value;
  });
  const counted = Object.keys(finite).length;
  if (counted > 0 && counted < groups.length) {
    notes.push(`${attribute.name}: ES-FID over the ${counted} groups with a figure`);
  }
  return {
    attribute: attribute.name,
    groups,
    perGroup,
    ...(perGroupKid ? { perGroupKid } : {}),
    esFid: counted > 0 ? equityScaledFid(overall, finite) : Number.NaN,
    notes,
  };
}

/**
 * FID overall and per group (with ES-FID) of a model's images against real images, and optionally
 * the clinical semantic correlation. `model` may be null when `options.generated` is given.
 */
export async function auditQuality(
  model: LatentDiffusionModel | null,
  options: QualityAuditOptions,
): Promise<QualityAudit> {
  const started = Date.now();
  const real: LabelledImages = Array.isArray(options.real)
    ? labelledImagesFromSamples(options.real as readonly MedicalSample[])
    : (options.real as LabelledImages);
  const nReal = checkLabelledImages(real, "real images");
  const realShape = imageShape(real.images, "real images");
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const minGroupImages = options.minGroupImages ?? DEFAULT_MIN_GROUP_IMAGES;
  if (!Number.isInteger(minGroupImages) || minGroupImages < 2) {
    throw new Error(`minGroupImages must be an integer ≥ 2, got ${minGroupImages}`);
  }
  if (nReal < 2) throw new Error(`a covariance needs at least 2 real images, got ${nReal}`);
  const attributes = resolveAttributes(options.attributes, real);
  const intersections = resolveIntersections(options.intersections, attributes, real);
  const kid = resolveKid(options.kid);
  const findings = [...new Set(real.labels.flatMap((l) => Object.keys(l)))];
  const clinicalOptions: ClinicalOptions | undefined =
    options.clinical === true ? {} : options.clinical || undefined;
  if (options.memorisation) checkMemorisationOptions(options.memorisation, realShape);

  const ownsExtractor = options.extractor === undefined;
  const extractor = options.extractor ?? defaultFeatureExtractor();
  try {
    let generated: GeneratedSet;
    if (options.generated) {
      const nGenerated = checkLabelledImages(options.generated, "generated images");
      const shape = imageShape(options.generated.images, "generated images");
      if (shape.join("×") !== realShape.join("×")) {
        throw new Error(
          `generated images are ${shape.join("×")}, real images ${realShape.join("×")}: FID needs one size`,
        );
      }
      const features = await extractAll(extractor, options.generated.images, {
        batchSize,
        signal: options.signal,
        abortMessage: ABORTED,
        onBatch: (done) =>
          options.onProgress?.({ stage: "features", done, total: nGenerated + nReal }),
      });
      generated = { set: options.generated, count: nGenerated, features };
    } else {
      generated = await generateCounterparts(
        model,
        real,
        attributes,
        findings,
        extractor,
        options,
        clinicalOptions !== undefined || options.memorisation !== undefined,
      );
    }
    const nGenerated = generated.count;
    if (nGenerated < 2)
      throw new Error(`a covariance needs at least 2 generated images, got ${nGenerated}`);
    const realFeatures = await extractAll(extractor, real.images, {
      batchSize,
      signal: options.signal,
      abortMessage: ABORTED,
      onBatch: (done) =>
        options.onProgress?.({
          stage: "features",
          done: nGenerated + done,
          total: nGenerated + nReal,
        }),
    });
    const allGenerated = Array.from({ length: nGenerated }, (_, i) => i);
    const allReal = Array.from({ length: nReal }, (_, i) => i);
    const overall = fidOfRows(
      generated.features,
      allGenerated,
      realFeatures,
      allReal,
      options.bootstrap && {
        ...options.bootstrap,
        seed: subSeed(options.seed, "quality:bootstrap"),
      },
    );
    const overallKid =
      kid &&
      kidOfRows(generated.features, allGenerated, realFeatures, allReal, {
        ...kid,
        seed: subSeed(options.seed, "quality:kid"),
      });
    const realSide = { set: real, features: realFeatures };
    // By default, only attributes the generated images carry too (prompts that never name an
    // age band give no per-group figure for it); an attribute asked for by name is always kept.
    const audited = options.attributes
      ? attributes
      : attributes.filter((a) => generated.set.attributes.some((g) => g[a.name] !== undefined));
    const byAttribute = [...audited, ...intersections].map((attribute) =>
      groupQuality(attribute, overall.value, generated, realSide, options, minGroupImages, kid),
    );

    const result: QualityAudit = {
      extractor: { ...extractor.info },
      overall,
      ...(overallKid ? { overallKid } : {}),
      byAttribute,
      elapsedMs: 0,
    };
    if (clinicalOptions !== undefined) {
      checkAborted(options.signal);
      options.onProgress?.({ stage: "clinical", done: 0, total: 1 });
      result.clinical = await clinicalCorrelation(
        {
          generated: {
            images: generated.rasters ?? (await asRasters(generated.set.images)),
            labels: generated.set.labels,
          },
          real: {
            images: await asRasters(real.images),
            labels: real.labels,
            attributes: real.attributes,
          },
          attributes,
        },
        {
          ...clinicalOptions,
          seed: clinicalOptions.seed ?? subSeed(options.seed, "quality:clinical"),
          signal: options.signal,
        },
      );
      options.onProgress?.({ stage: "clinical", done: 1, total: 1 });
    }
    if (options.memorisation) {
      checkAborted(options.signal);
      options.onProgress?.({ stage: "memorisation", done: 0, total: 1 });
      const { training, trainingDescription, level, pairs } = options.memorisation;
      result.memorisation = {
        ...(await auditMemorisation({
          generated: { ...generated.set, images: generated.rasters ?? generated.set.images },
          training,
          heldOut: real,
          attributes: [...audited, ...intersections].map((a) => a.name),
          extractor,
          features: { info: extractor.info, generated: generated.features, heldOut: realFeatures },
          level,
          pairs,
          batchSize,
          signal: options.signal,
        })),
        ...(trainingDescription === undefined ? {} : { trainingDescription }),
      };
      options.onProgress?.({ stage: "memorisation", done: 1, total: 1 });
    }
    result.elapsedMs = Date.now() - started;
    return result;
  } finally {
    if (ownsExtractor) extractor.dispose();
  }
}
