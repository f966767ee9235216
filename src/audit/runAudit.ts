/**
 * One audit run: the representation audit over the prompts, the quality audit when asked, and
 * the run manifest, returned as an AuditReport. One progress callback covers every stage; one
 * AbortSignal stops any of them; one seed fixes all of it.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { MedicalSample } from "../data/medicalSample";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { AuditReport } from "./auditReport";
import { auditQuality, type QualityAuditOptions, type QualityProgress } from "./qualityAudit";
import type { LabelledImages } from "./qualityImageSet";
import type { QualityAudit } from "./qualityTypes";
import { auditRepresentation, type RepresentationAuditOptions } from "./representationAudit";
import { sha256Images } from "./runFingerprints";
import {
  classifierIdentity,
  DEFAULT_RESAMPLES,
  DEFAULT_SAMPLER,
  modelIdentity,
  runEnvironment,
  type RealDataIdentity,
  type RunManifest,
} from "./runManifest";

export interface AuditProgress {
  stage: "representation" | "quality";
  /** Within the quality audit: generating counterparts, extracting features, clinical probe. */
  step?: QualityProgress["stage"];
  /** Images (or steps) done and due in this stage. */
  done: number;
  total: number;
}

/** The quality audit's options, less what the run supplies (seed, sampler, signal, progress). */
export interface RunAuditQualityOptions extends Omit<
  QualityAuditOptions,
  "seed" | "signal" | "onProgress" | "generation"
> {
  /** Where the real images come from, in words, for the manifest (e.g. "cxr cohort, seed 99"). */
  realDescription?: string;
}

export interface RunAuditOptions extends Omit<RepresentationAuditOptions, "onProgress"> {
  title?: string;
  /**
   * Checkpoint files the model and classifier were loaded from, fingerprinted in the manifest.
   * Default: their `source` (what `load`/`fromPretrained` read or `save` wrote) while their
   * weights are unchanged since; a fine-tuned model is recorded by its weights alone.
   */
  modelFile?: string;
  classifierFile?: string;
  /**
   * Also audit image quality per group (FID, KID, ES-FID, optionally clinical correlation). The
   * audit's `intersections` split it too, unless `quality.intersections` says otherwise.
   */
  quality?: RunAuditQualityOptions;
  onProgress?: (progress: AuditProgress) => void;
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

export async function runAudit(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RunAuditOptions,
): Promise<AuditReport> {
  const started = performance.now();
  // Fingerprint first: a missing file fails before minutes of generation, not after.
  const [modelId, classifierId] = await Promise.all([
    modelIdentity(model, options.modelFile),
    classifierIdentity(classifier, options.classifierFile),
  ]);
  const data = options.quality ? await realDataIdentity(options.quality) : undefined;
  const attributes =
    options.attributes ?? classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
  const representationStarted = performance.now();
  const representation = await auditRepresentation(model, classifier, {
    ...options,
    attributes,
    onProgress: (done, total) => options.onProgress?.({ stage: "representation", done, total }),
  });
  const representationMs = performance.now() - representationStarted;
  const generation = options.generation ?? {};

  let quality: QualityAudit | undefined;
  let qualityMs: number | undefined;
  if (options.quality) {
    const qualityStarted = performance.now();
    const { realDescription: _, ...qualityOptions } = options.quality;
    quality = await auditQuality(model, {
      ...qualityOptions,
      intersections: qualityIntersections(options.quality, options.intersections),
      seed: options.seed,
      generation,
      signal: options.signal,
      onProgress: (p) =>
        options.onProgress?.({ stage: "quality", step: p.stage, done: p.done, total: p.total }),
    });
    qualityMs = performance.now() - qualityStarted;
  }

  const manifest: RunManifest = {
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
    resamples: options.resamples ?? DEFAULT_RESAMPLES,
    ...runEnvironment(),
    ...(data ? { data } : {}),
    elapsedMs: {
      representation: representationMs,
      ...(qualityMs === undefined ? {} : { quality: qualityMs }),
      total: performance.now() - started,
    },
  };
  return AuditReport.create({ representation, quality, manifest, title: options.title });
}
