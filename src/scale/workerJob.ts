/**
 * The jobs a worker runs — one shard of an audit, one run of a sweep — and the messages between a
 * worker and the child process (or thread) that computes them. Plain JSON: the same job travels
 * through a BullMQ queue, an IPC channel or a worker_threads port.
 */
import type { AuditSettings } from "../audit/auditSettings";
import type { AuditShard } from "../audit/auditUnits";
import type { AuditProgress } from "../audit/runAudit";
import type { JsonValue } from "../audit/reportJson";
import type { AuditRequest } from "./auditRequest";
import type { SweepProgress, SweepRun } from "./sweepRun";

export interface AuditShardJob {
  kind: "audit-shard";
  request: AuditRequest;
  shard: AuditShard;
  /** What the coordinator planned: a worker whose models differ refuses the job, naming how. */
  fingerprint: string;
  settings: AuditSettings;
  /**
   * The coordinator's shared results folder: the part goes there as a file instead of into
   * Redis (a worker may mount the folder elsewhere: its own --results wins).
   */
  results?: string;
}

export interface SweepRunJob {
  kind: "sweep-run";
  run: SweepRun;
}

export type WorkerJob = AuditShardJob | SweepRunJob;

export type JobProgress = AuditProgress | SweepProgress;

export type ToChild = { type: "job"; id: string; job: WorkerJob } | { type: "abort"; id: string };

export type FromChild =
  | { type: "ready" }
  | { type: "progress"; id: string; progress: JobProgress }
  | { type: "result"; id: string; result: JsonValue }
  | { type: "error"; id: string; message: string; permanent: boolean };

/** An error that retrying elsewhere cannot fix (the job's settings do not match this machine). */
export class PermanentJobError extends Error {
  override readonly name = "PermanentJobError";
}
