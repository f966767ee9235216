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
 * - In stages, so an audit can be sharded (docs/scale-out.md): `prepareQuality` resolves the
 *   options into a JSON plan; `qualityBatch` computes one unit of counterparts' per-image numbers
 *   (feature rows; memorisation neighbours; pixels only for the clinical probe); `qualityReference`
 *   the real side once; `qualityStatistics` (qualityStatistics.ts) every figure from those.
 *   `auditQuality` runs the stages in one process.
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
import { assertLevel, assertPositiveInteger } from "../fairness/validation";
import { defaultFeatureExtractor } from "../features/projectEncoderExtractor";
import type { FeatureExtractor } from "../features/featureExtractor";
import type { RasterImage } from "../io/rasterImage";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { generateImages, type GenerateOptions } from "../pipeline/textToImage";
import type { ClinicalOptions } from "./clinicalCorrelation";
import { extractAll, extractRows } from "./featureRows";
import {
  DEFAULT_MEMORISATION_LEVEL,
  DEFAULT_MEMORISATION_PAIRS,
  memorisationComponentNames,
  memorisationPairs,
  mostCopyLike,
  nearCopyThresholds,
  prepareMemorisationReferences,
  resolveMemorisationAttributes,
  scoreGeneratedImages,
  type GeneratedNeighbours,
  type MemorisationReferences,
} from "./memorisationAudit";
import type { MemorisationPair, MemorisationSpace } from "./memorisationTypes";
import { checkAborted, QUALITY_ABORTED, subSeed } from "./qualityRun";
import { qualityStatistics } from "./qualityStatistics";

import type { FeatureMatrix, KidOptions } from "./qualityFid";
import {
  checkLabelledImages,
  imageBatch,
  imageCount,
  imageShape,
  labelledImagesFromSamples,
  labelsFromPrompts,
  type LabelledImages,
} from "./qualityImageSet";
import type { FeatureExtractorInfo, QualityAudit } from "./qualityTypes";

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

/**
 * A quality audit's settings, resolved and checked before any image is generated: plain JSON,
 * the same in every shard of a sharded audit, and all its statistics need besides the images'
 * own numbers.
 */
export interface QualityPlan {
  seed: number;
  extractor: FeatureExtractorInfo;
  /** Attributes resolved against the real images (groups in report order). */
  attributes: SensitiveAttribute[];
  /** Names of the attributes with per-group figures (those the generated images carry). */
  audited: string[];
  intersections: SensitiveAttribute[];
  /** KID options, or null when KID is off. */
  kid: Omit<KidOptions, "seed"> | null;
  findings: string[];
  minGroupImages: number;
  equalGroupSizes: boolean;
  bootstrap: { resamples: number; level?: number } | null;
  clinical: ClinicalOptions | null;
  memorisation: {
    /** Attributes and intersections tabled, with their groups. */
    attributes: SensitiveAttribute[];
    componentNames: string[];
    level: number;
    pairs: number;
    trainingDescription?: string;
  } | null;
  /** Images per feature-extraction call. */
  batchSize: number;
  /** [height, width, channels] of every image. */
  imageShape: [number, number, number];
  counts: { generated: number; real: number };
  /** Counterparts drawn from the real images' prompts, or given (`options.generated`). */
  source: "prompts" | "given";
  /** Images per unit of work: a generation batch, or an extraction batch of given images. */
  unitSize: number;
  generation: NonNullable<QualityAuditOptions["generation"]>;
}

/** What one process needs besides the plan: the images, the extractor, the references. */
interface QualityRuntime {
  real: LabelledImages;
  /** The generated set's labels (and images, when given). */
  generated: LabelledImages;
  extractor: FeatureExtractor;
  ownsExtractor: boolean;
  /** Real images' features, once extracted (the references and the reference part need them). */
  realFeatures?: FeatureMatrix;
  memorisation?: {
    references: MemorisationReferences;
    thresholds: Record<MemorisationSpace, number>;
  };
}

/** A quality audit ready to run: plan, the process's runtime; dispose when done. */
export interface PreparedQuality {
  plan: QualityPlan;
  runtime: QualityRuntime;
  dispose(): void;
}

/** One unit of generated images: their per-image numbers, all a merge needs of them. */
export interface QualityBatch {
  start: number;
  count: number;
  /** Groups and finding labels per image (from its prompt, or as given). */
  attributes: GroupAssignment[];
  labels: Record<string, number>[];
  /** Feature rows, count × extractor dimension. */
  features: Float64Array;
  /** Pixels, image after image, kept only for the clinical probe (it trains on them). */
  rasters?: Float32Array;
  /** Each image's nearest training and held-out images (memorisation audit). */
  memorisation?: GeneratedNeighbours;
  /** The unit's most copy-like images beside their nearest training image. */
  pairs?: MemorisationPair[];
}

/** What the real (and training) side contributes once per audit, whatever the shards. */
export interface QualityReference {
  features: Float64Array;
  attributes: GroupAssignment[];
  labels: Record<string, number>[];
  /** Real pixels, kept only for the clinical probe (it tests on them). */
  rasters?: Float32Array;
  memorisation?: {
    counts: { training: number; heldOut: number };
    nullRatios: Record<MemorisationSpace, number[]>;
    sizeRatios: [string, number][];
  };
}

function checkedGeneration(
  model: LatentDiffusionModel | null,
  real: LabelledImages,
  realShape: readonly number[],
): void {
  if (!model) throw new Error("auditQuality needs a model unless options.generated is given");
  if (!real.prompts) {
    throw new Error("the real images have no prompts to generate from; give options.generated");
  }
  const drawn = [model.config.imageSize, model.config.imageSize, model.config.imageChannels];
  if (drawn.join("×") !== realShape.join("×")) {
    throw new Error(
      `the model draws ${drawn.join("×")} images, the real images are ${realShape.join("×")}: FID needs one size`,
    );
  }
}

/** Names of the attributes per-group figures are kept for, as the audit reports them. */
function auditedNames(
  options: QualityAuditOptions,
  attributes: readonly SensitiveAttribute[],
  generated: LabelledImages,
): string[] {
  // By default, only attributes the generated images carry too (prompts that never name an
  // age band give no per-group figure for it); an attribute asked for by name is always kept.
  const kept = options.attributes
    ? attributes
    : attributes.filter((a) => generated.attributes.some((g) => g[a.name] !== undefined));
  return kept.map((a) => a.name);
}

/**
 * Checks every option and resolves the plan; makes (or takes) the extractor. Nothing is
 * generated yet. `model` may be null when `options.generated` is given.
 */
export function prepareQuality(
  model: LatentDiffusionModel | null,
  options: QualityAuditOptions,
): PreparedQuality {
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
  const clinical: ClinicalOptions | undefined =
    options.clinical === true ? {} : options.clinical || undefined;
  if (options.memorisation) checkMemorisationOptions(options.memorisation, realShape);

  let generated: LabelledImages;
  let unitSize: number;
  let nGenerated: number;
  if (options.generated) {
    nGenerated = checkLabelledImages(options.generated, "generated images");
    const shape = imageShape(options.generated.images, "generated images");
    if (shape.join("×") !== realShape.join("×")) {
      throw new Error(
        `generated images are ${shape.join("×")}, real images ${realShape.join("×")}: FID needs one size`,
      );
    }
    if (nGenerated < 2)
      throw new Error(`a covariance needs at least 2 generated images, got ${nGenerated}`);
    generated = options.generated;
    unitSize = batchSize;
  } else {
    checkedGeneration(model, real, realShape);
    const prompts = real.prompts as string[];
    generated = { images: [], prompts, ...labelsFromPrompts(prompts, attributes, findings) };
    nGenerated = prompts.length;
    unitSize = options.generation?.batchSize ?? 32;
    if (!Number.isInteger(unitSize) || unitSize < 1) {
      throw new Error(`generation.batchSize must be a positive integer, got ${unitSize}`);
    }
  }
  const audited = auditedNames(options, attributes, generated);
  const memorisation = options.memorisation
    ? (() => {
        const tabled = resolveMemorisationAttributes(
          [...attributes.filter((a) => audited.includes(a.name)), ...intersections].map(
            (a) => a.name,
          ),
          generated,
          real,
        );
        const { level, pairs, trainingDescription } = options.memorisation;
        return {
          attributes: tabled,
          componentNames: memorisationComponentNames(tabled),
          level: level ?? DEFAULT_MEMORISATION_LEVEL,
          pairs: pairs ?? DEFAULT_MEMORISATION_PAIRS,
          ...(trainingDescription === undefined ? {} : { trainingDescription }),
        };
      })()
    : null;

  const ownsExtractor = options.extractor === undefined;
  const extractor = options.extractor ?? defaultFeatureExtractor();
  const plan: QualityPlan = {
    seed: options.seed,
    extractor: { ...extractor.info },
    attributes,
    audited,
    intersections,
    kid: kid ?? null,
    findings,
    minGroupImages,
    equalGroupSizes: options.equalGroupSizes === true,
    bootstrap: options.bootstrap ? { ...options.bootstrap } : null,
    clinical: clinical ? { ...clinical } : null,
    memorisation,
    batchSize,
    imageShape: realShape,
    counts: { generated: nGenerated, real: nReal },
    source: options.generated ? "given" : "prompts",
    unitSize,
    generation: { ...options.generation },
  };
  return {
    plan,
    runtime: { real, generated, extractor, ownsExtractor },
    dispose: () => {
      if (ownsExtractor) extractor.dispose();
    },
  };
}

/** The real images' features, extracted once per process (in extraction batches). */
async function realFeaturesOf(
  prepared: PreparedQuality,
  signal: AbortSignal | undefined,
  onBatch?: (done: number) => void,
): Promise<FeatureMatrix> {
  const { runtime, plan } = prepared;
  runtime.realFeatures ??= await extractAll(runtime.extractor, runtime.real.images, {
    batchSize: plan.batchSize,
    signal,
    abortMessage: QUALITY_ABORTED,
    onBatch,
  });
  return runtime.realFeatures;
}

/**
 * The memorisation audit's references (training and held-out images in both spaces, and the
 * null's thresholds), built once per process before any generated image is scored. Every shard
 * builds the same: the training features are extracted in the same batches everywhere.
 */
async function memorisationRuntime(
  prepared: PreparedQuality,
  training: LabelledImages,
  signal: AbortSignal | undefined,
): Promise<NonNullable<QualityRuntime["memorisation"]>> {
  const { runtime, plan } = prepared;
  if (runtime.memorisation) return runtime.memorisation;
  const memorisation = plan.memorisation as NonNullable<QualityPlan["memorisation"]>;
  const heldOut = await realFeaturesOf(prepared, signal);
  const trainingFeatures = await extractAll(runtime.extractor, training.images, {
    batchSize: plan.batchSize,
    signal,
    abortMessage: "memorisation audit aborted",
  });
  const references = await prepareMemorisationReferences({
    training,
    heldOut: runtime.real,
    features: { training: trainingFeatures, heldOut },
    componentNames: memorisation.componentNames,
    signal,
  });
  runtime.memorisation = {
    references,
    thresholds: nearCopyThresholds(references.nullRatios, memorisation.level).thresholds,
  };
  return runtime.memorisation;
}

/** The unit of work starting at image `start` (counterpart or given image). */
export interface QualityBatchOptions {
  start: number;
  count: number;
  /** The memorisation audit's training images (when the plan has one). */
  training?: LabelledImages;
  signal?: AbortSignal;
}

/**
 * Generated images start … start+count−1: generated from their real counterparts' prompts
 * (image i seeded by the audit's generation seed and i, whatever the batch), or taken from the
 * given set; their features, and what the clinical probe and the memorisation audit need of each.
 */
export async function qualityBatch(
  model: LatentDiffusionModel | null,
  prepared: PreparedQuality,
  options: QualityBatchOptions,
): Promise<QualityBatch> {
  const { plan, runtime } = prepared;
  const { start, count, signal } = options;
  checkAborted(signal);
  const memorisation = plan.memorisation
    ? await memorisationRuntime(prepared, requireTraining(options.training), signal)
    : undefined;
  let images: tf.Tensor4D;
  if (plan.source === "prompts") {
    const prompts = (runtime.generated.prompts as string[]).slice(start, start + count);
    images = await generateImages(model as LatentDiffusionModel, prompts, {
      ...plan.generation,
      batchSize: plan.unitSize,
      seed: subSeed(plan.seed, "quality:generation"),
      firstIndex: start,
      signal,
    });
  } else {
    images = imageBatch(runtime.generated.images, start, count);
  }
  try {
    const features = await extractRows(runtime.extractor, images);
    const attributes = runtime.generated.attributes.slice(start, start + count);
    const batch: QualityBatch = {
      start,
      count,
      attributes: attributes.map((a) => ({ ...a })),
      labels: runtime.generated.labels.slice(start, start + count).map((l) => ({ ...l })),
      features,
    };
    const pixels =
      plan.clinical || memorisation ? ((await images.data()) as Float32Array) : undefined;
    if (plan.clinical) batch.rasters = Float32Array.from(pixels as Float32Array);
    if (memorisation && plan.memorisation) {
      const queries = {
        attributes,
        features: { values: features, dimension: plan.extractor.dimension },
        pixels: pixels as Float32Array,
      };
      batch.memorisation = await scoreGeneratedImages(memorisation.references, queries, signal);
      batch.pairs = memorisationPairs(
        memorisation.references,
        memorisation.thresholds,
        queries,
        batch.memorisation,
        start,
        plan.memorisation.pairs,
      );
    }
    return batch;
  } finally {
    images.dispose();
  }
}

function requireTraining(training: LabelledImages | undefined): LabelledImages {
  if (!training) throw new Error("the memorisation audit needs its training images");
  return training;
}

/** The real side, once per audit: features, labels, and the memorisation null. */
export async function qualityReference(
  prepared: PreparedQuality,
  options: {
    training?: LabelledImages;
    signal?: AbortSignal;
    onBatch?: (done: number, total: number) => void;
  },
): Promise<QualityReference> {
  const { plan, runtime } = prepared;
  const features = await realFeaturesOf(prepared, options.signal, (done) =>
    options.onBatch?.(done, plan.counts.real),
  );
  const reference: QualityReference = {
    features: features.values as Float64Array,
    attributes: runtime.real.attributes.map((a) => ({ ...a })),
    labels: runtime.real.labels.map((l) => ({ ...l })),
  };
  if (plan.clinical) {
    const rasters = await asRasters(runtime.real.images);
    const per = plan.imageShape[0] * plan.imageShape[1] * plan.imageShape[2];
    reference.rasters = new Float32Array(rasters.length * per);
    rasters.forEach((r, i) => reference.rasters!.set(r.data, i * per));
  }
  if (plan.memorisation) {
    const training = requireTraining(options.training);
    const { references } = await memorisationRuntime(prepared, training, options.signal);
    reference.memorisation = {
      counts: {
        training: imageCount(training.images),
        heldOut: plan.counts.real,
      },
      nullRatios: {
        features: [...references.nullRatios.features],
        pixels: [...references.nullRatios.pixels],
      },
      sizeRatios: references.sizeRatios.map(([key, ratio]): [string, number] => [key, ratio]),
    };
  }
  return reference;
}

/** The `count` most copy-like of candidate pairs under the plan's thresholds (a shard's best). */
export function bestQualityPairs(
  prepared: PreparedQuality,
  pairs: readonly MemorisationPair[],
): MemorisationPair[] {
  const { memorisation } = prepared.runtime;
  const plan = prepared.plan.memorisation;
  if (!memorisation || !plan) return [];
  return mostCopyLike(pairs, memorisation.thresholds, plan.pairs);
}

/** Units of generated images: starts and counts of the plan's unit size. */
export function qualityUnits(plan: QualityPlan): { start: number; count: number }[] {
  const units: { start: number; count: number }[] = [];
  for (let start = 0; start < plan.counts.generated; start += plan.unitSize) {
    units.push({ start, count: Math.min(plan.unitSize, plan.counts.generated - start) });
  }
  return units;
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
  const prepared = prepareQuality(model, options);
  try {
    const { plan } = prepared;
    const { signal, onProgress } = options;
    const training = options.memorisation?.training;
    const nGenerated = plan.counts.generated;
    const nReal = plan.counts.real;
    const generating = plan.source === "prompts";
    const batches: QualityBatch[] = [];
    for (const { start, count } of qualityUnits(plan)) {
      batches.push(await qualityBatch(model, prepared, { start, count, training, signal }));
      onProgress?.(
        generating
          ? { stage: "generating", done: start + count, total: nGenerated }
          : { stage: "features", done: start + count, total: nGenerated + nReal },
      );
    }
    const reference = await qualityReference(prepared, {
      training,
      signal,
      onBatch: (done) =>
        onProgress?.({ stage: "features", done: nGenerated + done, total: nGenerated + nReal }),
    });
    const result = await qualityStatistics(plan, { batches, reference }, { signal, onProgress });
    result.elapsedMs = Date.now() - started;
    return result;
  } finally {
    prepared.dispose();
  }
}
