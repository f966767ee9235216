/**
 * An audit prepared once — settings resolved and fingerprinted, the quality audit's extractor
 * and references made — then run shard by shard: each shard generates and measures its units'
 * images and returns an AuditPart. A whole audit is the one shard 1/1 (runAudit), a local run
 * or a queue worker runs others; the numbers of an image do not depend on which.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { MedicalSample } from "../data/medicalSample";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import {
  AUDIT_PART_KIND,
  AUDIT_PART_SCHEMA_VERSION,
  type AuditPart,
  type RepresentationBatch,
} from "./auditPart";
import { auditFingerprint, type AuditSettings } from "./auditSettings";
import { auditUnits, checkShard, shardUnits, type AuditShard, type AuditUnit } from "./auditUnits";
import type { MemorisationPair } from "./memorisationTypes";
import {
  bestQualityPairs,
  prepareQuality,
  qualityBatch,
  qualityReference,
  type PreparedQuality,
  type QualityBatch,
  type QualityReference,
} from "./qualityAudit";
import type { LabelledImages } from "./qualityImageSet";
import {
  checkRepresentationOptions,
  classifyPromptBatch,
  DEFAULT_GENERATION_BATCH,
  promptSeed,
  representationHeads,
} from "./representationAudit";
import type { AuditProgress, RunAuditOptions, RunAuditQualityOptions } from "./runAudit";
import { sha256Images } from "./runFingerprints";
import {
  classifierIdentity,
  DEFAULT_RESAMPLES,
  DEFAULT_SAMPLER,
  modelIdentity,
  runEnvironment,
  type RealDataIdentity,
} from "./runManifest";

export interface ShardRunOptions {
  signal?: AbortSignal;
  /** Progress within this shard: its own images done and due, per stage. */
  onProgress?: (progress: AuditProgress) => void;
}

/** An audit ready to run any of its shards; dispose it when done (it may own an extractor). */
export interface PreparedAudit {
  readonly settings: AuditSettings;
  readonly fingerprint: string;
  readonly units: readonly AuditUnit[];
  runShard(shard: AuditShard, options?: ShardRunOptions): Promise<AuditPart>;
  dispose(): void;
}

/**
 * The intersections the quality audit splits by: its own when given; else the audit's, less
 * those naming an attribute that `quality.attributes` (when given) leaves out — the generated
 * images could not be split by it (e.g. an attribute their prompts never name).
 */
function qualityIntersections(
  quality: RunAuditQualityOptions,
  intersections: readonly (readonly string[])[] | undefined,
): readonly (readonly string[])[] | undefined {
  if (quality.intersections !== undefined) return quality.intersections;
  if (!intersections || intersections.length === 0) return undefined;
  const audited = quality.attributes?.map((a) => (typeof a === "string" ? a : a.name));
  return audited
    ? intersections.filter((names) => names.every((name) => audited.includes(name)))
    : intersections;
}

function realImages(real: RunAuditQualityOptions["real"]) {
  return Array.isArray(real)
    ? (real as readonly MedicalSample[]).map((s) => s.image)
    : (real as LabelledImages).images;
}

async function realDataIdentity(options: RunAuditQualityOptions): Promise<RealDataIdentity> {
  const images = realImages(options.real);
  const count = Array.isArray(images) ? images.length : images.shape[0];
  return {
    description: options.realDescription ?? `${count} real images given to the quality audit`,
    images: count,
    sha256: await sha256Images(images),
  };
}

/**
 * Resolves and checks everything (a missing checkpoint file or a bad option fails here, before
 * any image), fingerprints the audit and readies the quality audit's extractor.
 */
export async function prepareAudit(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RunAuditOptions,
): Promise<PreparedAudit> {
  // Fingerprint first: a missing file fails before minutes of generation, not after.
  const [modelId, classifierId] = await Promise.all([
    modelIdentity(model, options.modelFile),
    classifierIdentity(classifier, options.classifierFile),
  ]);
  checkRepresentationOptions(options);
  const data = options.quality ? await realDataIdentity(options.quality) : undefined;
  const attributes =
    options.attributes ?? classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
  const heads = representationHeads(classifier, attributes);
  const generation = options.generation ?? {};
  let quality: PreparedQuality | undefined;
  if (options.quality) {
    const { realDescription: _, ...qualityOptions } = options.quality;
    quality = prepareQuality(model, {
      ...qualityOptions,
      intersections: qualityIntersections(options.quality, options.intersections),
      seed: options.seed,
      generation,
    });
  }
  const environment = runEnvironment();
  const settings: AuditSettings = {
    model: modelId,
    classifier: classifierId,
    seed: options.seed,
    prompts: [...options.prompts],
    imagesPerPrompt: options.imagesPerPrompt,
    attributes,
    intersections: (options.intersections ?? []).map((names) => [...names]),
    targets: structuredClone(options.targets ?? {}),
    sampler: {
      scheduler: generation.scheduler ?? DEFAULT_SAMPLER.scheduler,
      steps: generation.steps ?? DEFAULT_SAMPLER.steps,
      guidanceScale: generation.guidanceScale ?? DEFAULT_SAMPLER.guidanceScale,
      eta: generation.eta ?? DEFAULT_SAMPLER.eta,
    },
    generationBatch: generation.batchSize ?? DEFAULT_GENERATION_BATCH,
    resamples: options.resamples ?? DEFAULT_RESAMPLES,
    heads,
    ...(quality && data ? { quality: { plan: quality.plan, data } } : {}),
    backend: environment.backend.name,
    versions: { fairdiff: environment.versions.fairdiff, tfjsCore: environment.versions.tfjsCore },
  };
  const fingerprint = auditFingerprint(settings);
  const units = auditUnits(settings);
  const training = options.quality?.memorisation?.training;

  const runShard = async (shard: AuditShard, run: ShardRunOptions = {}): Promise<AuditPart> => {
    checkShard(shard);
    const started = performance.now();
    const mine = shardUnits(units, shard);
    const { signal, onProgress } = run;
    const representationUnits = mine.filter(
      (u): u is Extract<AuditUnit, { kind: "representation" }> => u.kind === "representation",
    );
    const representationTotal = representationUnits.reduce((sum, u) => sum + u.count, 0);
    const representation: RepresentationBatch[] = [];
    let done = 0;
    for (const unit of representationUnits) {
      const prompt = settings.prompts[unit.prompt];
      const before = done;
      const heads = await classifyPromptBatch(model, classifier, {
        prompt,
        seed: promptSeed(settings.seed, prompt),
        start: unit.start,
        count: unit.count,
        generation,
        signal,
        onProgress: (d) =>
          onProgress?.({ stage: "representation", done: before + d, total: representationTotal }),
      });
      done += unit.count;
      representation.push({ prompt: unit.prompt, start: unit.start, count: unit.count, heads });
    }
    const representationMs = performance.now() - started;

    let qualityPart: AuditPart["quality"];
    const qualityStarted = performance.now();
    if (quality) {
      const qualityUnitsOfShard = mine.filter(
        (u): u is Extract<AuditUnit, { kind: "quality" }> => u.kind === "quality",
      );
      const total = qualityUnitsOfShard.reduce((sum, u) => sum + u.count, 0);
      const batches: QualityBatch[] = [];
      let pairs: MemorisationPair[] = [];
      let generated = 0;
      for (const unit of qualityUnitsOfShard) {
        const { pairs: batchPairs, ...batch } = await qualityBatch(model, quality, {
          start: unit.start,
          count: unit.count,
          training,
          signal,
        });
        // A shard keeps its own best pairs only: the merge's best are among them.
        pairs = bestQualityPairs(quality, [...pairs, ...(batchPairs ?? [])]);
        batches.push(batch);
        generated += unit.count;
        onProgress?.({ stage: "quality", step: "generating", done: generated, total });
      }
      let reference: QualityReference | undefined;
      if (mine.some((u) => u.kind === "reference")) {
        reference = await qualityReference(quality, {
          training,
          signal,
          onBatch: (d, t) =>
            onProgress?.({ stage: "quality", step: "features", done: d, total: t }),
        });
      }
      qualityPart = { batches, ...(reference ? { reference } : {}), pairs };
    }
    const now = performance.now();
    return {
      kind: AUDIT_PART_KIND,
      schemaVersion: AUDIT_PART_SCHEMA_VERSION,
      fingerprint,
      settings,
      shard: { ...shard },
      environment,
      representation,
      ...(qualityPart ? { quality: qualityPart } : {}),
      elapsedMs: {
        representation: representationMs,
        quality: quality ? now - qualityStarted : 0,
        total: now - started,
      },
    };
  };

  return {
    settings,
    fingerprint,
    units,
    runShard,
    dispose: () => quality?.dispose(),
  };
}

/** One shard of an audit (prepare, run, dispose): `runAudit`'s partial result. */
export async function runAuditShard(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RunAuditOptions,
  shard: AuditShard,
): Promise<AuditPart> {
  const prepared = await prepareAudit(model, classifier, options);
  try {
    return await prepared.runShard(shard, {
      signal: options.signal,
      onProgress: options.onProgress,
    });
  } finally {
    prepared.dispose();
  }
}
