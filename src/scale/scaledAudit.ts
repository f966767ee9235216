/**
 * An audit spread over workers: its shards as jobs, run by children on this machine or by
 * `fairdiff worker`s through a BullMQ queue, their parts gathered for the merge. The coordinator
 * has opened and prepared the audit itself (every setting checked, the fingerprint known) before
 * any job starts; a worker that would compute anything else refuses its job.
 */
import * as path from "node:path";
import type { AuditPart } from "../audit/auditPart";
import { loadAuditPart, parseAuditPart } from "../audit/auditPartJson";
import type { PreparedAudit } from "../audit/auditShard";
import { unitImages, type AuditShard } from "../audit/auditUnits";
import type { AuditProgress } from "../audit/runAudit";
import type { AuditRequest } from "./auditRequest";
import type { ChildKind, JobProcess } from "./jobProcess";
import { runLocalShards } from "./localShards";
import { jobIdOf, runQueuedJobs } from "./queueCoordinator";
import type { AuditShardJob } from "./workerJob";

export type ScaleOut =
  | {
      kind: "local";
      workers: number;
      child?: ChildKind;
      /** Children already started (see runLocalShards). */
      children?: JobProcess[];
    }
  | {
      kind: "queue";
      url: string;
      queueName?: string;
      shards: number;
      /** A shared folder for the parts instead of Redis. */
      results?: string;
    };

export interface ScaledAuditOptions {
  /** The request the coordinator opened, its backend resolved (workers use the same). */
  request: AuditRequest;
  prepared: PreparedAudit;
  scale: ScaleOut;
  signal?: AbortSignal;
  /** Images done over all shards, and due. */
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

/** Images an audit generates: the representation's and the quality audit's. */
export function auditImages(prepared: PreparedAudit): number {
  return prepared.units.reduce((sum, unit) => sum + unitImages(unit), 0);
}

/** Units that generate images: more shards than these would leave some empty. */
export function imageUnits(prepared: PreparedAudit): number {
  return prepared.units.filter((unit) => unitImages(unit) > 0).length;
}

export function shardJobs(
  prepared: PreparedAudit,
  request: AuditRequest,
  count: number,
  results?: string,
): AuditShardJob[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: "audit-shard" as const,
    request,
    shard: { index: i + 1, count },
    fingerprint: prepared.fingerprint,
    settings: prepared.settings,
    ...(results === undefined ? {} : { results: path.resolve(results) }),
  }));
}

/** Sums each shard's latest image counts into one figure. */
class ProgressTotals {
  private readonly done = new Map<string, number>();
  constructor(
    private readonly total: number,
    private readonly report?: (done: number, total: number) => void,
  ) {}

  update(shard: AuditShard, progress: AuditProgress): void {
    // Images: the representation's, and the quality audit's counterparts.
    if (progress.stage === "quality" && progress.step !== "generating") return;
    this.done.set(`${shard.index}:${progress.stage}`, progress.done);
    let done = 0;
    for (const value of this.done.values()) done += value;
    this.report?.(Math.min(done, this.total), this.total);
  }
}

export async function runScaledAudit(options: ScaledAuditOptions): Promise<AuditPart[]> {
  const { prepared, request, scale } = options;
  const totals = new ProgressTotals(auditImages(prepared), options.onProgress);
  if (scale.kind === "local") {
    const count = Math.max(1, Math.min(scale.workers, imageUnits(prepared)));
    const jobs = shardJobs(prepared, request, count);
    return runLocalShards(jobs, {
      workers: count,
      kind: scale.child,
      children: scale.children,
      signal: options.signal,
      onProgress: (index, progress) => totals.update({ index, count }, progress),
    });
  }
  const jobs = shardJobs(prepared, request, scale.shards, scale.results).map((job) => ({
    id: jobIdOf("audit-shard", job.fingerprint, `${job.shard.index}/${job.shard.count}`),
    job,
    label: `shard ${job.shard.index}/${job.shard.count}`,
  }));
  const values = await runQueuedJobs(jobs, {
    url: scale.url,
    queueName: scale.queueName,
    signal: options.signal,
    log: options.log,
    onProgress: (queued, progress) => {
      const job = queued.job as AuditShardJob;
      totals.update(job.shard, progress as AuditProgress);
    },
  });
  return values.map((value, k) => {
    const label = jobs[k].label;
    const file =
      typeof value === "object" && value !== null && !Array.isArray(value) ? value.file : undefined;
    if (typeof file === "string") {
      if (scale.results === undefined) {
        throw new Error(
          `${label}: its worker stored the part as a file, but no --results folder was given`,
        );
      }
      return loadAuditPart(path.join(scale.results, file));
    }
    return parseAuditPart(value, label);
  });
}
