/** worker_threads entry of a data-parallel replica: a message loop around `Replica`. */
import { parentPort } from "node:worker_threads";
import { useBackend } from "../backend/useBackend";
import type { FromReplica, ToReplica } from "./messages";
import { NonFiniteStepError } from "./nonFiniteStep";
import { loadModel, Replica } from "./replica";

let replica: Replica | undefined;
/** Every replica's gradient share (shared memory) and which one is this replica's. */
let shares: Float32Array[][] = [];
let index = 0;

function send(message: FromReplica, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

async function handle(message: ToReplica): Promise<void> {
  switch (message.kind) {
    case "init": {
      const info = await useBackend(message.backend);
      replica = new Replica(loadModel(message.model), message.optimizer);
      replica.setWeights(message.weights);
      shares = message.shares;
      index = message.index;
      send({ kind: "ready", backend: info.name });
      return;
    }
    case "gradients": {
      const replica = requireReplica();
      const loss = await replica.gradientsInto(message.batch, message.scale, shares[index]);
      send({ kind: "gradients", loss });
      return;
    }
    case "apply":
      // Checked like the trainer's own replica: the same arithmetic refuses the same update.
      try {
        // The trainer has summed every share into replica 0's (replicaShares.ts).
        await requireReplica().applyHostChecked(
          shares[0],
          message.learningRate,
          message.gradientScale,
        );
        send({ kind: "applied", refused: false });
      } catch (error) {
        if (!(error instanceof NonFiniteStepError)) throw error;
        send({ kind: "applied", refused: true });
      }
      return;
    case "restore":
      requireReplica().setWeights(message.weights);
      if (message.optimizer) await requireReplica().setOptimizerState(message.optimizer);
      send({ kind: "restored" });
      return;
    case "weights":
      send({ kind: "weights", weights: await requireReplica().weights() });
      return;
  }
}

function requireReplica(): Replica {
  if (!replica) throw new Error("replica used before init");
  return replica;
}

parentPort?.on("message", (message: ToReplica) => {
  handle(message).catch((error: Error) =>
    send({ kind: "error", message: error.stack ?? error.message }),
  );
});
