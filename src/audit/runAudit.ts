/**
 * One audit run: the representation audit over the prompts, the quality audit when asked, and
 * the run manifest, returned as an AuditReport. One progress callback covers every stage; one
 * AbortSignal stops any of them; one seed fixes all of it.
 *
 * A whole audit is the one shard of itself, merged (auditShard.ts, mergeAuditParts.ts): the same
 * code computes a sharded audit's parts and their merge, so sharded and whole audits agree by
 * construction.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { AuditReport } from "./auditReport";
import { prepareAudit } from "./auditShard";
import { WHOLE_AUDIT } from "./auditUnits";
import { mergeAuditParts } from "./mergeAuditParts";
import type { QualityAuditOptions, QualityProgress } from "./qualityAudit";
import type { RepresentationAuditOptions } from "./representationAudit";

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

export async function runAudit(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RunAuditOptions,
): Promise<AuditReport> {
  const started = performance.now();
  const prepared = await prepareAudit(model, classifier, options);
  try {
    const part = await prepared.runShard(WHOLE_AUDIT, {
      signal: options.signal,
      onProgress: options.onProgress,
    });
    return await mergeAuditParts([part], {
      title: options.title,
      signal: options.signal,
      onProgress: options.onProgress,
      startedAt: started,
    });
  } finally {
    prepared.dispose();
  }
}
