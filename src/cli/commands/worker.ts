/**
 * `fairdiff worker --queue redis://host:6379`: a worker of a BullMQ queue — audit shards
 * (`fairdiff audit --queue`) and sweep runs (`fairdiff sweep --queue`) — on this machine, until
 * Ctrl-C or SIGTERM, which let the jobs in hand finish first. Start one per machine (with
 * --concurrency up to its cores); docs/scale-out.md has a Kubernetes Job for many.
 */
import type { Command } from "commander";
import { DEFAULT_QUEUE_NAME, redisOptions } from "../../scale/redisConnection";
import {
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_STALLED_INTERVAL_MS,
  runQueueWorker,
} from "../../scale/queueWorker";
import { interruptOnCtrlC } from "../interrupt";
import { integerOption } from "../optionValues";

export interface WorkerCommandOptions {
  queue?: string;
  queueName?: string;
  concurrency?: string;
  results?: string;
  lockDuration?: string;
  stalledInterval?: string;
  maxStalled?: string;
  threads?: boolean;
  idleExit?: string;
}

/** A worker's settings, checked before it connects. */
export function workerSettings(opts: WorkerCommandOptions) {
  if (opts.queue === undefined)
    throw new Error("--queue <redis-url> is required, e.g. redis://host:6379");
  redisOptions(opts.queue, "--queue");
  const lockDuration = integerOption(
    "--lock-duration",
    opts.lockDuration ?? String(DEFAULT_LOCK_DURATION_MS),
    {
      min: 1000,
      max: 3_600_000,
    },
  );
  return {
    url: opts.queue,
    queueName: opts.queueName ?? DEFAULT_QUEUE_NAME,
    concurrency: integerOption("--concurrency", opts.concurrency ?? "1", {
      min: 1,
      max: 256,
      maxReason: "one job per core",
    }),
    ...(opts.results === undefined ? {} : { results: opts.results }),
    lockDuration,
    stalledInterval: integerOption(
      "--stalled-interval",
      opts.stalledInterval ?? String(DEFAULT_STALLED_INTERVAL_MS),
      { min: 100, max: 3_600_000 },
    ),
    maxStalledCount: integerOption(
      "--max-stalled",
      opts.maxStalled ?? String(DEFAULT_MAX_STALLED_COUNT),
      {
        min: 0,
        max: 100,
      },
    ),
    kind: opts.threads ? ("thread" as const) : ("process" as const),
    ...(opts.idleExit === undefined
      ? {}
      : {
          idleExitMs:
            1000 * integerOption("--idle-exit", opts.idleExit, { min: 1, max: 7 * 24 * 3600 }),
        }),
  };
}

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "take audit shards and sweep runs from a BullMQ queue (Redis) until stopped; run one per machine",
    )
    .option("--queue <redis-url>", "the Redis the jobs are queued in, e.g. redis://host:6379")
    .option("--queue-name <name>", "the queue's name", DEFAULT_QUEUE_NAME)
    .option("--concurrency <n>", "jobs at once, each in its own process on its own core", "1")
    .option(
      "--results <folder>",
      "this machine's path to the shared folder for audit parts (when the audit asks for files)",
    )
    .option(
      "--lock-duration <ms>",
      "a job's lock without renewal: how long a dead worker's job waits before another takes it",
      String(DEFAULT_LOCK_DURATION_MS),
    )
    .option(
      "--stalled-interval <ms>",
      "how often to look for jobs whose worker died",
      String(DEFAULT_STALLED_INTERVAL_MS),
    )
    .option(
      "--max-stalled <n>",
      "times a job may lose its worker before it fails for good",
      String(DEFAULT_MAX_STALLED_COUNT),
    )
    .option("--threads", "compute in worker threads instead of child processes")
    .option(
      "--idle-exit <seconds>",
      "stop (exit 0) once the queue has had no job for this long (for batch jobs, e.g. Kubernetes)",
    )
    .action(async (opts: WorkerCommandOptions) => {
      const settings = workerSettings(opts);
      const interrupt = interruptOnCtrlC("finishing the jobs in hand, then stopping");
      const stop = new AbortController();
      interrupt.signal.addEventListener("abort", () => stop.abort(), { once: true });
      // Kubernetes and systemd stop with SIGTERM: the same clean stop as a first Ctrl-C.
      const onTerm = () => stop.abort();
      process.once("SIGTERM", onTerm);
      try {
        await runQueueWorker({
          ...settings,
          signal: stop.signal,
          log: (line) => console.error(`${new Date().toISOString()} ${line}`),
        });
      } finally {
        process.off("SIGTERM", onTerm);
        interrupt.close();
      }
    });
}
