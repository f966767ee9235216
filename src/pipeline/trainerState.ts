/**
 * A data-parallel training stage (the autoencoder's, the denoiser's) with its run state
 * (runState.ts): resumes the trainer, its weight average and the optimiser from the state file
 * when there is one to resume, runs the shared training loop, and writes the state every k
 * steps and at the end or on abort, with the loss reached (a finished stage re-run from its state
 * still reports it).
 */
import type { DataParallelTrainer } from "../parallel/dataParallelTrainer";
import {
  loadRunState,
  restoreAverage,
  saveRunState,
  stateToResume,
  variableShapes,
  type RunSettings,
} from "./runState";
import type { TrainingEvent, TrainingSummary } from "./trainingEvents";
import { trainingLoop, type TrainingLoopOptions } from "./trainingLoop";

/** A training stage's state-file options. */
export interface StageStateOptions {
  /**
   * Training-state file: written every `checkpointEvery` steps and at the end (or on abort);
   * resumed from if present — if it was written with this run's settings, else refused.
   */
  stateFile?: string;
  checkpointEvery?: number;
  /** Delete an existing state file and start over (default: resume from it). */
  restart?: boolean;
}

interface StageExtra {
  /** Loss of the last step taken before the state was written. */
  finalLoss: number | null;
}

export async function* resumableTraining(
  trainer: DataParallelTrainer,
  run: StageStateOptions & { kind: string; settings: RunSettings },
  loop: Omit<TrainingLoopOptions, "trainer" | "startStep" | "checkpoint" | "checkpointEvery">,
): AsyncGenerator<TrainingEvent, TrainingSummary> {
  const file = run.stateFile;
  const shapes = variableShapes(trainer.variables);
  let startStep = 0;
  let lastLoss = Number.NaN;
  const resumeFrom = stateToResume(file, run.restart);
  if (resumeFrom !== undefined) {
    const state = loadRunState<StageExtra>(resumeFrom, run.kind, run.settings, shapes);
    restoreAverage(resumeFrom, state, loop.ema);
    await trainer.restore(state.weights, state.optimizer);
    startStep = state.step;
    lastLoss = state.extra?.finalLoss ?? Number.NaN;
  }
  const checkpoint =
    file === undefined
      ? undefined
      : async (stepsDone: number) => {
          saveRunState<StageExtra>(file, run.kind, run.settings, shapes, {
            step: stepsDone,
            complete: stepsDone >= loop.totalSteps,
            weights: await trainer.weights(),
            average: loop.ema?.values,
            optimizer: await trainer.optimizerState(),
            extra: { finalLoss: Number.isFinite(lastLoss) ? lastLoss : null },
          });
          return file;
        };
  const events = trainingLoop({
    ...loop,
    trainer,
    startStep,
    checkpointEvery: run.checkpointEvery,
    checkpoint,
  });
  try {
    let next = await events.next();
    while (!next.done) {
      if (next.value.kind === "step") lastLoss = next.value.loss;
      yield next.value;
      next = await events.next();
    }
    return { ...next.value, finalLoss: lastLoss };
  } finally {
    await events.return(undefined as never);
  }
}
