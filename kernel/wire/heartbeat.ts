/** Starts the heartbeat echo thread and waits until it is bound. */
import path from "node:path";
import { Worker } from "node:worker_threads";

export interface Heartbeat {
  stop(): Promise<void>;
}

export function startHeartbeat(endpoint: string): Promise<Heartbeat> {
  const worker = new Worker(path.join(__dirname, "heartbeatWorker.js"), {
    workerData: { endpoint },
  });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (msg: string) => {
      if (msg !== "bound") return reject(new Error(`heartbeat: ${msg}`));
      worker.unref();
      resolve({
        stop: async () => {
          const exited = new Promise((done) => worker.once("exit", done));
          worker.postMessage("close");
          await exited;
        },
      });
    });
  });
}
