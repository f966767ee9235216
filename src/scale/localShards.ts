/**
 * An audit's shards on this machine: a pool of job children (processes by default, or threads),
 * each taking the next shard until none is left; their parts come back as checked AuditParts.
 * The first failure stops the others and is thrown.
 */
import type { AuditPart } from "../audit/auditPart";
import { parseAuditPart } from "../audit/auditPartJson";
import type { AuditProgress } from "../audit/runAudit";
import { JobProcess, type ChildKind } from "./jobProcess";
import type { AuditShardJob } from "./workerJob";

export interface LocalShardsOptions {
  /** Children at once (each computes on one core). */
  workers: number;
  kind?: ChildKind;
  /** Children started earlier (their start-up overlapping the caller's); all are closed here. */
  children?: JobProcess[];
  signal?: AbortSignal;
  /** A shard's own progress (its images done and due), by shard index. */
  onProgress?: (shard: number, progress: AuditProgress) => void;
}

export async function runLocalShards(
  jobs: readonly AuditShardJob[],
  options: LocalShardsOptions,
): Promise<AuditPart[]> {
  const count = Math.max(1, Math.min(options.workers, jobs.length));
  const given = options.children ?? [];
  const children = [
    ...given.slice(0, count),
    ...Array.from(
      { length: Math.max(0, count - given.length) },
      () => new JobProcess(options.kind),
    ),
  ];
  const spare = given.slice(count);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const parts: AuditPart[] = new Array(jobs.length);
  let next = 0;
  const drain = async (child: JobProcess) => {
    while (next < jobs.length && !stop.signal.aborted) {
      const k = next++;
      const job = jobs[k];
      const result = await child.run(job, {
        signal: stop.signal,
        onProgress: (p) => options.onProgress?.(job.shard.index, p as AuditProgress),
      });
      parts[k] = parseAuditPart(result, `shard ${job.shard.index}/${job.shard.count}`);
    }
  };
  try {
    await Promise.all(
      children.map((child) =>
        drain(child).catch((error: Error) => {
          stop.abort();
          throw error;
        }),
      ),
    );
    if (stop.signal.aborted) throw new Error("audit stopped");
    return parts;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await Promise.all([...children, ...spare].map((child) => child.close()));
  }
}
