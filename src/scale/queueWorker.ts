/**
 * `fairdiff worker`: takes jobs from a BullMQ queue — audit shards and sweep runs — and computes
 * each in a child (jobChild.ts) so this process stays free to keep the job's lock renewed. A
 * worker that dies mid-job loses nothing: its lock expires, another worker's stalled-job check
 * puts the job back in the queue, and a worker takes it again. Stopping (Ctrl-C, SIGTERM) lets
 * the jobs in hand finish and takes no new ones.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { loadAuditPart, parseAuditPart } from "../audit/auditPartJson";
import type { JsonValue } from "../audit/reportJson";
import { writeFileAtomic } from "../io/atomicWrite";
import { JobProcess, type ChildKind } from "./jobProcess";
import { checkRedis, DEFAULT_QUEUE_NAME, redisOptions } from "./redisConnection";
import { sweepRunName } from "./sweepRun";
import { PermanentJobError, type WorkerJob } from "./workerJob";

export interface QueueWorkerOptions {
  url: string;
  queueName?: string;
  /** Jobs at once, each in its own child on its own core (default 1). */
  concurrency?: number;
  kind?: ChildKind;
  /** This machine's path to the shared results folder (overrides the coordinator's). */
  results?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job waits this long (ms). */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs (ms). */
  stalledInterval?: number;
  /** Stalls a job may have before it fails for good. */
  maxStalledCount?: number;
  /** Stops taking jobs; the jobs in hand finish first. */
  signal?: AbortSignal;
  /** Stop on its own once the queue has held no job (waiting, active or delayed) this long. */
  idleExitMs?: number;
  log?: (line: string) => void;
}

export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_STALLED_COUNT = 2;

/** How a log line names a job. */
export function describeJob(job: WorkerJob): string {
  return job.kind === "audit-shard"
    ? `audit ${job.fingerprint.slice(0, 8)} shard ${job.shard.index}/${job.shard.count}`
    : `sweep run ${sweepRunName(job.run)}`;
}

/** The part file a shard job's result goes to, when results go to a shared folder. */
function resultFile(job: Job<WorkerJob>, folder: string): string {
  return path.join(folder, `${job.id}.json`);
}

/** A complete part already in the results folder for this very job (a retry after the write). */
function existingPart(file: string, data: WorkerJob): boolean {
  if (data.kind !== "audit-shard" || !fs.existsSync(file)) return false;
  try {
    const part = loadAuditPart(file);
    return (
      part.fingerprint === data.fingerprint &&
      part.shard.index === data.shard.index &&
      part.shard.count === data.shard.count
    );
  } catch {
    return false; // damaged: computed again and replaced
  }
}

export async function runQueueWorker(options: QueueWorkerOptions): Promise<void> {
  await checkRedis(options.url);
  const log = options.log ?? (() => {});
  const concurrency = options.concurrency ?? 1;
  const idle: JobProcess[] = [];
  const all = new Set<JobProcess>();
  const take = () => {
    const child = idle.pop() ?? new JobProcess(options.kind);
    all.add(child);
    return child;
  };
  // Children start now: their start-up (node, tfjs) overlaps the wait for the first job.
  for (let i = 0; i < concurrency; i++) {
    const child = new JobProcess(options.kind);
    all.add(child);
    idle.push(child);
  }

  const processor = async (job: Job<WorkerJob>): Promise<JsonValue> => {
    const data = job.data;
    const folder = data.kind === "audit-shard" ? (options.results ?? data.results) : undefined;
    const file = folder === undefined ? undefined : resultFile(job, folder);
    if (file && existingPart(file, data)) return { file: path.basename(file) };
    const child = take();
    let healthy = true;
    try {
      const result = await child.run(data, {
        onProgress: (progress) => {
          job.updateProgress(progress as unknown as object).catch(() => {});
        },
      });
      if (file) {
        // Checked before it is stored: a part a merge cannot read is no result.
        parseAuditPart(result, describeJob(data));
        writeFileAtomic(file, JSON.stringify(result));
        return { file: path.basename(file) };
      }
      return result;
    } catch (error) {
      if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
      healthy = !/child process|thread/.test((error as Error).message);
      throw error;
    } finally {
      if (healthy) idle.push(child);
      else {
        all.delete(child);
        void child.close();
      }
    }
  };

  const worker = new Worker<WorkerJob, JsonValue>(
    options.queueName ?? DEFAULT_QUEUE_NAME,
    processor,
    {
      connection: redisOptions(options.url),
      concurrency,
      lockDuration: options.lockDuration ?? DEFAULT_LOCK_DURATION_MS,
      stalledInterval: options.stalledInterval ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
      autorun: false,
    },
  );
  worker.on("active", (job) => log(`took ${describeJob(job.data)} (job ${job.id})`));
  worker.on("completed", (job) => log(`done ${describeJob(job.data)}`));
  worker.on("failed", (job, error) =>
    log(`failed ${job ? describeJob(job.data) : "a job"}: ${error.message}`),
  );
  worker.on("error", (error) => log(`queue error: ${error.message}`));
  let idleWatch: NodeJS.Timeout | undefined;
  let queue: Queue | undefined;
  const stopped = new Promise<string>((resolve) => {
    if (options.signal?.aborted) resolve("stopping");
    options.signal?.addEventListener("abort", () => resolve("stopping"), { once: true });
    if (options.idleExitMs !== undefined) {
      const idleMs = options.idleExitMs;
      queue = new Queue(options.queueName ?? DEFAULT_QUEUE_NAME, {
        connection: redisOptions(options.url),
      });
      let idleSince = Date.now();
      idleWatch = setInterval(
        () => {
          void queue!
            .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children")
            .then((counts) => {
              const pending = Object.values(counts).reduce((a, b) => a + b, 0);
              if (pending > 0 || all.size > idle.length) idleSince = Date.now();
              else if (Date.now() - idleSince >= idleMs) {
                resolve(`the queue has been empty for ${Math.round(idleMs / 1000)} s; stopping`);
              }
            })
            .catch(() => {});
        },
        Math.min(5000, Math.max(200, idleMs / 4)),
      );
    }
  });
  log(
    `worker on ${options.url} queue "${options.queueName ?? DEFAULT_QUEUE_NAME}", ${concurrency} job(s) at once; Ctrl-C stops after the jobs in hand`,
  );
  const running = worker.run();
  try {
    log(`${await stopped}: finishing the jobs in hand, taking no more`);
    await worker.close();
    await running;
  } finally {
    if (idleWatch) clearInterval(idleWatch);
    await queue?.close();
    await Promise.all([...all].map((child) => child.close()));
  }
}
