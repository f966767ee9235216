/**
 * A complete set of an audit's parts → its AuditReport. The statistics are computed here, once,
 * from the merged per-image numbers, by the same functions a whole audit uses (it is the one
 * shard 1/1, merged): so counts, proportions, every bootstrap interval (same seeds, same data),
 * the fairness discrepancy, the corrected estimates, FID, KID, the clinical probe and the
 * memorisation tables equal the unsharded audit's exactly. Refuses parts of different audits,
 * missing or repeated shards, before computing anything.
 */
import { AuditReport } from "./auditReport";
import type { AuditPart, RepresentationBatch } from "./auditPart";
import { settingsDifference } from "./auditSettings";
import { qualityStatistics } from "./qualityStatistics";
import type { QualityAudit } from "./qualityTypes";
import {
  concatHeadPredictions,
  promptRepresentation,
  promptSeed,
  type PromptRepresentation,
} from "./representationAudit";
import type { AuditProgress } from "./runAudit";
import type { RunManifest } from "./runManifest";

export interface MergeOptions {
  title?: string;
  signal?: AbortSignal;
  /** The merge's own stages (the clinical probe, the memorisation tables). */
  onProgress?: (progress: AuditProgress) => void;
  /**
   * When this process began the audit (`performance.now()`): the manifest's total is the wall
   * time from then to the merge's end (default: the parts' compute time summed).
   */
  startedAt?: number;
  createdAt?: Date | string;
}

function shardName(part: AuditPart): string {
  return `shard ${part.shard.index}/${part.shard.count}`;
}

/** Throws, naming the problem, unless the parts are every shard of one audit, once each. */
export function checkAuditParts(parts: readonly AuditPart[]): void {
  if (parts.length === 0) throw new Error("no audit parts to merge");
  const first = parts[0];
  for (const part of parts) {
    if (part.fingerprint !== first.fingerprint) {
      const difference = settingsDifference(first.settings, part.settings) ?? "fingerprints differ";
      throw new Error(
        `parts come from different audits: ${difference} (${shardName(first)} vs ${shardName(part)})`,
      );
    }
    if (part.shard.count !== first.shard.count) {
      throw new Error(
        `parts split the audit differently: ${shardName(first)} and ${shardName(part)}`,
      );
    }
  }
  const count = first.shard.count;
  const seen = new Map<number, number>();
  for (const part of parts) seen.set(part.shard.index, (seen.get(part.shard.index) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1).map(([i]) => `${i}/${count}`);
  if (twice.length > 0) {
    throw new Error(`${twice.length === 1 ? "shard" : "shards"} ${twice.join(", ")} given twice`);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1)
    .filter((i) => !seen.has(i))
    .map((i) => `${i}/${count}`);
  if (missing.length > 0) {
    throw new Error(`${missing.length === 1 ? "shard" : "shards"} ${missing.join(", ")} missing`);
  }
}

/** One prompt's batches in image order, checked to cover images 0 … n−1 once. */
function promptBatchesInOrder(
  batches: RepresentationBatch[],
  prompt: string,
  n: number,
): RepresentationBatch[] {
  const sorted = [...batches].sort((a, b) => a.start - b.start);
  let next = 0;
  for (const b of sorted) {
    if (b.start !== next) {
      throw new Error(
        `prompt "${prompt}": images ${next}… are ${b.start < next ? "given twice" : "missing"} among the parts`,
      );
    }
    next += b.count;
  }
  if (next !== n) throw new Error(`prompt "${prompt}": the parts hold ${next} of its ${n} images`);
  return sorted;
}

export async function mergeAuditParts(
  parts: readonly AuditPart[],
  options: MergeOptions = {},
): Promise<AuditReport> {
  checkAuditParts(parts);
  const settings = parts[0].settings;
  const sum = (f: (p: AuditPart) => number) => parts.reduce((s, p) => s + f(p), 0);

  const representationStarted = performance.now();
  const byPrompt = settings.prompts.map(() => [] as RepresentationBatch[]);
  for (const part of parts) for (const b of part.representation) byPrompt[b.prompt].push(b);
  const representation: PromptRepresentation[] = settings.prompts.map((prompt, p) => {
    const batches = promptBatchesInOrder(byPrompt[p], prompt, settings.imagesPerPrompt);
    return promptRepresentation(
      prompt,
      promptSeed(settings.seed, prompt),
      concatHeadPredictions(batches.map((b) => b.heads)),
      {
        heads: settings.heads,
        targets: settings.targets,
        intersections: settings.intersections,
        resamples: settings.resamples,
      },
    );
  });
  const representationMs =
    sum((p) => p.elapsedMs.representation) + performance.now() - representationStarted;

  let quality: QualityAudit | undefined;
  let qualityMs: number | undefined;
  if (settings.quality) {
    const qualityStarted = performance.now();
    const references = parts.flatMap((p) => (p.quality?.reference ? [p.quality.reference] : []));
    if (references.length !== 1) {
      throw new Error(
        `${references.length} parts hold the quality audit's real side; exactly one must (the shard with the first unit)`,
      );
    }
    quality = await qualityStatistics(
      settings.quality.plan,
      {
        batches: parts.flatMap((p) => p.quality?.batches ?? []),
        reference: references[0],
        pairs: parts.flatMap((p) => p.quality?.pairs ?? []),
      },
      {
        signal: options.signal,
        onProgress: (q) =>
          options.onProgress?.({ stage: "quality", step: q.stage, done: q.done, total: q.total }),
      },
    );
    qualityMs = sum((p) => p.elapsedMs.quality) + performance.now() - qualityStarted;
    quality.elapsedMs = qualityMs;
  }

  const { backend, versions } = parts[0].environment;
  const manifest: RunManifest = {
    model: settings.model,
    classifier: settings.classifier,
    seed: settings.seed,
    prompts: [...settings.prompts],
    imagesPerPrompt: settings.imagesPerPrompt,
    attributes: [...settings.attributes],
    intersections: settings.intersections.map((names) => [...names]),
    targets: structuredClone(settings.targets),
    sampler: { ...settings.sampler },
    resamples: settings.resamples,
    backend,
    versions,
    ...(settings.quality ? { data: settings.quality.data } : {}),
    elapsedMs: {
      representation: representationMs,
      ...(qualityMs === undefined ? {} : { quality: qualityMs }),
      total:
        options.startedAt === undefined
          ? representationMs + (qualityMs ?? 0)
          : performance.now() - options.startedAt,
    },
  };
  return AuditReport.create({
    representation,
    quality,
    manifest,
    title: options.title,
    createdAt: options.createdAt,
  });
}
