/**
 * Entry of a worker's child: a child process (`fork`) or a worker thread. Computes one job at a
 * time — an audit shard, a sweep run — so the parent's event loop stays free (a queue worker
 * keeps its job locks renewed while a batch of images takes a minute of solid compute). Exits
 * when its parent goes away; Ctrl-C reaches it through the parent, not the terminal.
 */
import { parentPort } from "node:worker_threads";
import { auditPartToJson } from "../audit/auditPartJson";
import { toJsonValue } from "../audit/reportJson";
import { ShardRunner } from "./shardRunner";
import { runSweepJob } from "./sweepRun";
import { PermanentJobError, type FromChild, type ToChild, type WorkerJob } from "./workerJob";

const send = (message: FromChild): void => {
  if (parentPort) parentPort.postMessage(message);
  else if (process.connected) process.send?.(message);
};

const runner = new ShardRunner();
const running = new Map<string, AbortController>();

async function run(id: string, job: WorkerJob): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  const onProgress = (progress: FromChild & { type: "progress" }) => send(progress);
  try {
    if (job.kind === "audit-shard") {
      const part = await runner.run(job, {
        signal: controller.signal,
        onProgress: (progress) => onProgress({ type: "progress", id, progress }),
      });
      send({ type: "result", id, result: auditPartToJson(part) });
    } else {
      const summary = await runSweepJob(job.run, {
        signal: controller.signal,
        onProgress: (progress) => onProgress({ type: "progress", id, progress }),
      });
      send({ type: "result", id, result: toJsonValue(summary) });
    }
  } catch (error) {
    const e = error as Error;
    send({
      type: "error",
      id,
      message: e.message,
      permanent: e instanceof PermanentJobError,
    });
  } finally {
    running.delete(id);
  }
}

function onMessage(message: ToChild): void {
  if (message.type === "job") void run(message.id, message.job);
  else running.get(message.id)?.abort();
}

if (parentPort) {
  parentPort.on("message", onMessage);
} else if (process.send) {
  // The terminal's Ctrl-C goes to the whole process group; the parent decides what it means.
  process.on("SIGINT", () => {});
  process.on("message", onMessage);
  const leave = () => {
    runner.dispose();
    process.exit(0);
  };
  process.on("disconnect", leave);
  // A write racing the parent's disconnect (EPIPE): the disconnect ends this child anyway.
  process.on("error", () => {});
  // A parent that let go while this child was still starting: nothing to do.
  if (!process.connected) leave();
} else {
  throw new Error("jobChild runs as a child process or worker thread of a fairdiff worker");
}
send({ type: "ready" });
