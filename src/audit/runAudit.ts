/**
 * One audit run: the representation audit over the prompts, the quality audit when asked, and
 * the run manifest, returned as an AuditReport. One progress callback covers every stage; one
 * AbortSignal stops any of them.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { AuditReport } from "./auditReport";
import { auditRepresentation, type RepresentationAuditOptions } from "./representationAudit";
import {
  classifierIdentity,
  DEFAULT_RESAMPLES,
  DEFAULT_SAMPLER,
  modelIdentity,
  runEnvironment,
  type RunManifest,
} from "./runManifest";

export interface AuditProgress {
  stage: "representation" | "quality";
  /** Images done and due in this stage. */
  done: number;
  total: number;
}

export interface RunAuditOptions extends Omit<RepresentationAuditOptions, "onProgress"> {
  title?: string;
  /** Checkpoint files the model and classifier were loaded from, fingerprinted in the manifest. */
  modelFile?: string;
  classifierFile?: string;
  onProgress?: (progress: AuditProgress) => void;
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
    elapsedMs: { representation: representationMs, total: performance.now() - started },
  };
  return AuditReport.create({ representation, manifest, title: options.title });
}
