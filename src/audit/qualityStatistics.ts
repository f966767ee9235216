/**
 * The quality audit's figures from its units' per-image numbers and the real side: FID and KID
 * overall and per group (with ES-FID, the equal-size option and the notes), the clinical probe
 * (trained here, on the units' pixels) and the memorisation tables. The one place they are
 * computed, whether the audit ran whole (`auditQuality`, `runAudit`) or in shards
 * (`mergeAuditParts`): so both give the same figures.
 */
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import { INTERSECTION_SEPARATOR } from "../data/subgroups";
import { equityScaledFid } from "../fairness/equityScaled";
import type { RasterImage } from "../io/rasterImage";
import { createRng } from "../util/random";
import { clinicalCorrelation } from "./clinicalCorrelation";
import { memorisationStatistics, type GeneratedNeighbours } from "./memorisationAudit";
import type { MemorisationPair } from "./memorisationTypes";
import type { QualityBatch, QualityPlan, QualityProgress, QualityReference } from "./qualityAudit";
import {
  fidOfRows,
  kidOfRows,
  type FeatureMatrix,
  type FidBootstrapOptions,
  type KidOptions,
} from "./qualityFid";
import { checkAborted, subSeed } from "./qualityRun";
import type { FidFigure, GroupQuality, KidFigure, QualityAudit } from "./qualityTypes";

function rastersOf(values: Float32Array, shape: readonly number[]): RasterImage[] {
  const [height, width, channels] = shape;
  const per = height * width * channels;
  return Array.from({ length: values.length / per }, (_, i) => ({
    width,
    height,
    channels: channels as 1 | 3,
    data: values.subarray(i * per, (i + 1) * per),
  }));
}

/** Joins units' arrays (in image order) into one. */
function joined<T extends Float32Array | Float64Array>(
  parts: readonly T[],
  make: (n: number) => T,
): T {
  const out = make(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Every batch's neighbours, joined in image order. */
function joinedNeighbours(batches: readonly QualityBatch[]): GeneratedNeighbours {
  const out = {} as GeneratedNeighbours;
  for (const space of ["features", "pixels"] as const) {
    out[space] = {
      nearestTraining: batches.flatMap((b) => b.memorisation![space].nearestTraining),
      trainingDistance: batches.flatMap((b) => b.memorisation![space].trainingDistance),
      heldOutDistance: batches.flatMap((b) => b.memorisation![space].heldOutDistance),
    };
  }
  return out;
}

/** Checks that the batches cover images 0 … n−1 once each, in order. */
function checkCoverage(batches: readonly QualityBatch[], n: number): void {
  let next = 0;
  for (const b of batches) {
    if (b.start !== next) {
      throw new Error(
        `quality batches: expected one starting at image ${next}, got one at ${b.start}`,
      );
    }
    next += b.count;
  }
  if (next !== n) throw new Error(`quality batches cover ${next} of ${n} generated images`);
}

export interface QualityStatisticsOptions {
  signal?: AbortSignal;
  onProgress?: (progress: QualityProgress) => void;
  /** Wall time to report (default: the statistics' own). */
  elapsedMs?: number;
}

/**
 * The quality audit's figures from its units' per-image numbers and the real side: FID and KID
 * overall and per group, ES-FID, the clinical probe (trained here, on the units' pixels) and
 * the memorisation tables. The one place they are computed, sharded or not.
 */
export async function qualityStatistics(
  plan: QualityPlan,
  input: {
    batches: readonly QualityBatch[];
    reference: QualityReference;
    /** Candidate pairs (each shard's best); default: the batches' own. */
    pairs?: readonly MemorisationPair[];
  },
  options: QualityStatisticsOptions = {},
): Promise<QualityAudit> {
  const started = Date.now();
  const batches = [...input.batches].sort((a, b) => a.start - b.start);
  checkCoverage(batches, plan.counts.generated);
  const d = plan.extractor.dimension;
  const generatedSet = {
    attributes: batches.flatMap((b) => b.attributes),
    labels: batches.flatMap((b) => b.labels),
  };
  const generatedFeatures: FeatureMatrix = {
    values: joined(
      batches.map((b) => b.features),
      (n) => new Float64Array(n),
    ),
    dimension: d,
  };
  const { reference } = input;
  const realFeatures: FeatureMatrix = { values: reference.features, dimension: d };
  const nGenerated = plan.counts.generated;
  const nReal = plan.counts.real;
  const kid = plan.kid ?? undefined;
  const bootstrap = plan.bootstrap ?? undefined;
  const allGenerated = Array.from({ length: nGenerated }, (_, i) => i);
  const allReal = Array.from({ length: nReal }, (_, i) => i);
  const overall = fidOfRows(
    generatedFeatures,
    allGenerated,
    realFeatures,
    allReal,
    bootstrap && { ...bootstrap, seed: subSeed(plan.seed, "quality:bootstrap") },
  );
  const overallKid =
    kid &&
    kidOfRows(generatedFeatures, allGenerated, realFeatures, allReal, {
      ...kid,
      seed: subSeed(plan.seed, "quality:kid"),
    });
  const settings = { seed: plan.seed, equalGroupSizes: plan.equalGroupSizes, bootstrap };
  const audited = plan.attributes.filter((a) => plan.audited.includes(a.name));
  const byAttribute = [...audited, ...plan.intersections].map((attribute) =>
    groupQuality(
      attribute,
      overall.value,
      { set: generatedSet, features: generatedFeatures },
      { set: reference, features: realFeatures },
      settings,
      plan.minGroupImages,
      kid,
    ),
  );
  const result: QualityAudit = {
    extractor: { ...plan.extractor },
    overall,
    ...(overallKid ? { overallKid } : {}),
    byAttribute,
    elapsedMs: 0,
  };
  if (plan.clinical) {
    checkAborted(options.signal);
    options.onProgress?.({ stage: "clinical", done: 0, total: 1 });
    const rasters = batches.map((b) => {
      if (!b.rasters) throw new Error(`quality batch at image ${b.start} has no pixels`);
      return b.rasters;
    });
    if (!reference.rasters) throw new Error("the quality reference has no real pixels");
    result.clinical = await clinicalCorrelation(
      {
        generated: {
          images: rastersOf(
            joined(rasters, (n) => new Float32Array(n)),
            plan.imageShape,
          ),
          labels: generatedSet.labels,
        },
        real: {
          images: rastersOf(reference.rasters, plan.imageShape),
          labels: reference.labels,
          attributes: reference.attributes,
        },
        attributes: plan.attributes,
      },
      {
        ...plan.clinical,
        seed: plan.clinical.seed ?? subSeed(plan.seed, "quality:clinical"),
        signal: options.signal,
      },
    );
    options.onProgress?.({ stage: "clinical", done: 1, total: 1 });
  }
  if (plan.memorisation) {
    checkAborted(options.signal);
    options.onProgress?.({ stage: "memorisation", done: 0, total: 1 });
    const memorisationStarted = Date.now();
    const references = reference.memorisation;
    if (!references) throw new Error("the quality reference has no memorisation null");
    const { level, pairs, trainingDescription } = plan.memorisation;
    result.memorisation = {
      ...memorisationStatistics({
        extractor: plan.extractor,
        attributes: plan.memorisation.attributes,
        componentNames: plan.memorisation.componentNames,
        counts: { generated: nGenerated, ...references.counts },
        generatedAttributes: generatedSet.attributes,
        heldOutAttributes: reference.attributes,
        neighbours: joinedNeighbours(batches),
        nullRatios: references.nullRatios,
        sizeRatios: references.sizeRatios,
        level,
        intervalLevel: 0.95,
        pairs: input.pairs ?? batches.flatMap((b) => b.pairs ?? []),
        pairCount: pairs,
      }),
      elapsedMs: Date.now() - memorisationStarted,
      ...(trainingDescription === undefined ? {} : { trainingDescription }),
    };
    options.onProgress?.({ stage: "memorisation", done: 1, total: 1 });
  }
  result.elapsedMs = options.elapsedMs ?? Date.now() - started;
  return result;
}

/** The image's group under `attribute` ("Female×Asian" for an intersection), if it has one. */
function groupName(attribute: SensitiveAttribute, assignment: GroupAssignment): string | undefined {
  const parts = (attribute.components ?? [attribute]).map((c) => assignment[c.name]);
  return parts.some((p) => p === undefined) ? undefined : parts.join(INTERSECTION_SEPARATOR);
}

function rowsWhere(set: LabelledSide, attribute: SensitiveAttribute, group: string): number[] {
  const rows: number[] = [];
  set.attributes.forEach((a, i) => {
    if (groupName(attribute, a) === group) rows.push(i);
  });
  return rows;
}

/** Per image, its groups: all the per-group figures need of a set besides its features. */
interface LabelledSide {
  attributes: readonly GroupAssignment[];
}

/** The settings groupQuality reads. */
interface GroupQualitySettings {
  seed: number;
  equalGroupSizes?: boolean;
  bootstrap?: { resamples: number; level?: number };
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
  generated: { set: LabelledSide; features: FeatureMatrix },
  real: { set: LabelledSide; features: FeatureMatrix },
  options: GroupQualitySettings,
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
