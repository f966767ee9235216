/**
 * Child-process entry for bench/diffusion.ts's "two processes side by side" row: one process
 * with one native thread (FAIRDIFF_THREADS=1, set by the parent) loads the checkpoint and, on
 * each request, runs the same timed work as the one-thread rows — training steps or sampling
 * rounds — and replies with its timing. Two of them answering the same request at once show
 * what two independent processes get from this machine's two cores on this workload.
 */
import { useBackend } from "../../src/backend";
import type { ArrayBatch } from "../../src/backend/trainableModel";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { tfjsMsPerStep, tfjsSampling, type Timing } from "../diffusion";

export type OneCoreRequest =
  | { kind: "train"; batch: ArrayBatch; steps: number }
  | { kind: "sample"; prompts: string[]; rounds: number };

export type OneCoreReply =
  { kind: "ready" } | { kind: "done"; timing: Timing } | { kind: "error"; message: string };

const send = (reply: OneCoreReply) => process.send?.(reply);

async function run(): Promise<void> {
  const checkpoint = process.argv[2];
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(checkpoint);
  // The parent kills this process when it has its figures.
  process.on("message", (request: OneCoreRequest) => {
    const work =
      request.kind === "train"
        ? tfjsMsPerStep(model, request.batch, 1, request.steps)
        : tfjsSampling(model, request.prompts, request.rounds);
    work.then(
      (timing) => send({ kind: "done", timing }),
      (error: Error) => send({ kind: "error", message: error.message }),
    );
  });
  send({ kind: "ready" });
}

run().catch((error: Error) => send({ kind: "error", message: error.message }));
