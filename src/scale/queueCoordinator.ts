/**
 * The coordinating side of a BullMQ queue: enqueues jobs under ids derived from what they compute
 * (the same job is never queued twice, and a job already done is not redone: its result is
 * still in Redis, or in the shared folder), follows their progress and stalls through the
 * queue's events, and collects their results. A job a killed worker held is moved back to the
 * queue by BullMQ's stalled-job check and taken by another worker.
 */
import { createHash } from "node:crypto";
import { Job, Queue, QueueEvents } from "bullmq";
import type { JsonValue } from "../audit/reportJson";
import { checkRedis, DEFAULT_QUEUE_NAME, redisOptions } from "./redisConnection";
import type { JobProgress, WorkerJob } from "./workerJob";

export interface QueuedJob {
  /** A stable id: the same work always has the same id (`jobIdOf`). */
  id: string;
  job: WorkerJob;
  /** How progress lines and errors name it, e.g. "shard 2/8". */
  label: string;
}

export interface QueueRunOptions {
  url: string;
  queueName?: string;
  /** The flag the URL came from, for errors (default "--queue"). */
  flag?: string;
  signal?: AbortSignal;
  onProgress?: (job: QueuedJob, progress: JobProgress) => void;
  /** Lines about the queue: jobs taken again after a stall, retried, failed. */
  log?: (line: string) => void;
  /** Tries per job before it fails for good (default 3; a stall does not count as one). */
  attempts?: number;
  /** How long finished jobs and their results stay in Redis, in seconds (default 7 days). */
  keepSeconds?: number;
}

/** A job id from what the job computes (hex: BullMQ ids must not be numbers or hold ":"). */
export function jobIdOf(...keys: string[]): string {
  return createHash("sha256").update(keys.join("\n")).digest("hex").slice(0, 40);
}

const WEEK_SECONDS = 7 * 24 * 3600;

/** Enqueues the jobs (unless queued or done already) and resolves with their results, in order. */
export async function runQueuedJobs(
  jobs: readonly QueuedJob[],
  options: QueueRunOptions,
): Promise<JsonValue[]> {
  const flag = options.flag ?? "--queue";
  await checkRedis(options.url, flag);
  const connection = redisOptions(options.url, flag);
  const name = options.queueName ?? DEFAULT_QUEUE_NAME;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const log = options.log ?? (() => {});
  events.on("progress", ({ jobId, data }) => {
    const job = byId.get(jobId);
    if (job && typeof data === "object" && data !== null) {
      options.onProgress?.(job, data as unknown as JobProgress);
    }
  });
  events.on("stalled", ({ jobId }) => {
    const job = byId.get(jobId);
    if (job) log(`${job.label}: its worker stopped answering; back in the queue for another`);
  });
  events.on("retries-exhausted", ({ jobId }) => {
    const job = byId.get(jobId);
    if (job) log(`${job.label}: failed on every try`);
  });
  try {
    await events.waitUntilReady();
    const keep = options.keepSeconds ?? WEEK_SECONDS;
    const queued: Job[] = [];
    for (const { id, job, label } of jobs) {
      await queue.add(job.kind, job, {
        jobId: id,
        attempts: options.attempts ?? 3,
        backoff: { type: "fixed", delay: 2000 },
        removeOnComplete: { age: keep },
        removeOnFail: { age: keep },
      });
      // An id already in the queue keeps its job: read what is there.
      const stored = await Job.fromId(queue, id);
      if (!stored)
        throw new Error(`${label}: job ${id} vanished from the queue right after it was added`);
      if ((await stored.getState()) === "failed") {
        log(`${label}: failed in an earlier run; trying again`);
        await stored.retry("failed");
      }
      queued.push(stored);
    }
    const stopped = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(
          new Error(
            "stopped waiting; the queued jobs stay in the queue, and the same command collects them later",
          ),
        );
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    stopped.catch(() => {});
    const results = await Promise.race([
      Promise.all(
        queued.map(async (job, k) => {
          try {
            const value = (await job.waitUntilFinished(events)) as unknown;
            return (typeof value === "string" ? JSON.parse(value) : value) as JsonValue;
          } catch (error) {
            throw new Error(`${jobs[k].label} failed: ${(error as Error).message}`);
          }
        }),
      ),
      stopped,
    ]);
    return results;
  } finally {
    await events.close();
    await queue.close();
  }
}
