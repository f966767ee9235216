/**
 * The loop every fairdiff trainer shares: build the batch for step s (deterministically from s),
 * take one data-parallel step with the scheduled learning rate, update the EMA, emit an event,
 * checkpoint every k steps, stop cleanly on abort. A step whose loss or gradient is not finite
 * is refused before it changes the weights and stops the run with an error naming the last good
 * state (nothing more is saved). Yields to the event loop between steps so a kernel or UI stays
 * responsive.
 */
import type { ArrayBatch } from "../backend/trainableModel";
import type { DataParallelTrainer } from "../parallel/dataParallelTrainer";
import { NonFiniteStepError, stoppedRunError, type SavedState } from "../parallel/nonFiniteStep";
import type { WeightAverage } from "./ema";
import { learningRateAt, type LearningRateSchedule } from "./learningRateSchedule";
import type { TrainingEvent, TrainingSummary } from "./trainingEvents";

export interface TrainingLoopOptions {
  trainer: DataParallelTrainer;
  /** Steps already done (resume), and the total to reach. */
  startStep: number;
  totalSteps: number;
  schedule: LearningRateSchedule;
  clipNorm?: number;
  makeBatch(step: number): ArrayBatch;
  ema?: WeightAverage;
  signal?: AbortSignal;
  checkpointEvery?: number;
  /** Writes a checkpoint after `stepsDone` steps; returns the file written. */
  checkpoint?(stepsDone: number): Promise<string>;
}

export async function* trainingLoop(
  options: TrainingLoopOptions,
): AsyncGenerator<TrainingEvent, TrainingSummary> {
  const { trainer, totalSteps } = options;
  const started = performance.now();
  let images = 0;
  let finalLoss = Number.NaN;
  let step = options.startStep;
  // A resumed run's state file is the caller's: the loop knows its step, not its name.
  let lastState: SavedState | undefined = step > 0 ? { step } : undefined;
  for (; step < totalSteps; step++) {
    if (options.signal?.aborted) break;
    const batch = options.makeBatch(step);
    const learningRate = learningRateAt(options.schedule, step);
    let outcome;
    try {
      outcome = await trainer.step(batch, { learningRate, clipNorm: options.clipNorm });
    } catch (error) {
      if (error instanceof NonFiniteStepError) throw stoppedRunError(error, step + 1, lastState);
      throw error;
    }
    finalLoss = outcome.loss;
    if (options.ema) options.ema.update(await trainer.weights());
    images += Object.values(batch)[0].shape[0];
    const elapsedSeconds = (performance.now() - started) / 1000;
    const done = step + 1 - options.startStep;
    yield {
      kind: "step",
      step: step + 1,
      totalSteps,
      loss: outcome.loss,
      learningRate,
      gradientNorm: outcome.gradientNorm,
      imagesPerSecond: images / elapsedSeconds,
      elapsedSeconds,
      etaSeconds: (elapsedSeconds / done) * (totalSteps - step - 1),
    };
    const every = options.checkpointEvery;
    if (options.checkpoint && every && (step + 1) % every === 0 && step + 1 < totalSteps) {
      const file = await options.checkpoint(step + 1);
      lastState = { file, step: step + 1 };
      yield { kind: "checkpoint", step: step + 1, file };
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const aborted = step < totalSteps;
  if (options.checkpoint && step > options.startStep) {
    yield { kind: "checkpoint", step, file: await options.checkpoint(step) };
  }
  return { stepsDone: step, aborted, finalLoss };
}
