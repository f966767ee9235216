/**
 * The parent's handle on one job child (jobChild.ts): a child process, or a worker thread. Sends
 * it jobs, relays their progress, and turns its answers — or its death — into resolved or
 * rejected promises. Each child computes on one thread (wasm runs one thread per Node thread), so
 * a machine runs one child per core.
 */
import { fork, type ChildProcess } from "node:child_process";
import { Worker } from "node:worker_threads";
import type { JsonValue } from "../audit/reportJson";
import { compiledModule } from "../parallel/compiledModule";
import {
  PermanentJobError,
  type FromChild,
  type JobProgress,
  type ToChild,
  type WorkerJob,
} from "./workerJob";

/** Child processes (the default: separate heaps, a crash takes only itself) or worker threads. */
export type ChildKind = "process" | "thread";

export interface JobRunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
}

interface Pending {
  resolve: (value: JsonValue) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: JobProgress) => void;
}

export class JobProcess {
  private readonly pending = new Map<string, Pending>();
  private readonly ready: Promise<void>;
  private nextId = 0;
  private exited?: Error;
  private readonly process?: ChildProcess;
  private readonly thread?: Worker;

  constructor(readonly kind: ChildKind = "process") {
    const file = compiledModule(__dirname, "jobChild");
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // A child closed before it was used is no error; `run` reports one that dies under a job.
    this.ready.catch(() => {});
    const onMessage = (message: FromChild) => {
      if (message.type === "ready") return markReady();
      const pending = this.pending.get(message.id);
      if (!pending) return;
      if (message.type === "progress") pending.onProgress?.(message.progress);
      else {
        this.pending.delete(message.id);
        if (message.type === "result") pending.resolve(message.result);
        else {
          pending.reject(
            message.permanent ? new PermanentJobError(message.message) : new Error(message.message),
          );
        }
      }
    };
    const onExit = (how: string) => {
      this.exited = new Error(
        `a worker's ${kind === "process" ? "child process" : "thread"} ${how}`,
      );
      failReady(this.exited);
      for (const pending of this.pending.values()) pending.reject(this.exited);
      this.pending.clear();
    };
    if (kind === "process") {
      this.process = fork(file, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      this.process.on("message", onMessage);
      this.process.on("exit", (code, signal) =>
        onExit(`exited (${signal ? `signal ${signal}` : `code ${code}`})`),
      );
      this.process.on("error", (error) => onExit(`failed: ${error.message}`));
    } else {
      this.thread = new Worker(file);
      this.thread.on("message", onMessage);
      this.thread.on("error", (error) => onExit(`failed: ${error.message}`));
      this.thread.on("exit", (code) => onExit(`exited (code ${code})`));
    }
  }

  private send(message: ToChild): void {
    if (this.process) this.process.send(message);
    else this.thread?.postMessage(message);
  }

  /** Runs one job; resolves with its JSON result, rejects with its error or the child's death. */
  async run(job: WorkerJob, options: JobRunOptions = {}): Promise<JsonValue> {
    await this.ready;
    if (this.exited) throw this.exited;
    const id = String(this.nextId++);
    const result = new Promise<JsonValue>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: options.onProgress });
    });
    const onAbort = () => this.send({ type: "abort", id });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    this.send({ type: "job", id, job });
    try {
      return await result;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Stops the child (a process exits when its channel closes; a thread is terminated). */
  async close(): Promise<void> {
    if (this.exited) return;
    if (this.process) {
      const gone = new Promise<void>((resolve) => this.process!.once("exit", () => resolve()));
      if (this.process.connected) this.process.disconnect();
      else this.process.kill();
      await gone;
    } else {
      await this.thread?.terminate();
    }
  }
}
