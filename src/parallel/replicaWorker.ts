/** worker_threads entry of a data-parallel replica: a message loop around `Replica`. */
import { parentPort } from "node:worker_threads";
import { useBackend } from "../backend/useBackend";
import type { FromReplica, ToReplica } from "./messages";
import { NonFiniteStepError } from "./nonFiniteStep";
import {
  partitionedStep,
  type PartitionedStepContext,
  type PartitionedStepDone,
} from "./partitionedStep";
import { loadModel, Replica } from "./replica";
import { StepBarrier } from "./stepBarrier";

let replica: Replica | undefined;
/** The shared memory of a step and which replica this is. */
let context: PartitionedStepContext | undefined;

function send(message: FromReplica, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

async function handle(message: ToReplica): Promise<void> {
  switch (message.kind) {
    case "init": {
      const info = await useBackend(message.backend);
      replica = new Replica(loadModel(message.model), message.optimizer);
      replica.setWeights(message.weights);
      replica.updateRange = message.ranges[message.index];
      context = {
        index: message.index,
        barrier: StepBarrier.attach(message.barrier),
        shares: message.shares,
        handover: message.handover,
        ranges: message.ranges,
      };
      send({ kind: "ready", backend: info.name });
      return;
    }
    case "step": {
      let done: PartitionedStepDone;
      try {
        done = await partitionedStep(requireReplica(), requireContext(), message.request);
      } catch (error) {
        // Every replica refuses a non-finite step alike (the trainer checks they agree).
        if (!(error instanceof NonFiniteStepError)) throw error;
        send({ kind: "stepped", refused: true });
        return;
      }
      send({ kind: "stepped", refused: false });
      // After the reply: a failure here aborts the barrier and reaches the trainer's next request.
      done.adoptOthers();
      return;
    }
    case "optimizerState":
      send({ kind: "optimizerState", state: await requireReplica().optimizerState() });
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

function requireContext(): PartitionedStepContext {
  if (!context) throw new Error("replica used before init");
  return context;
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
