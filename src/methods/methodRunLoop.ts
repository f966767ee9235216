/**
 * The step loop the three mitigation methods share: resume from the state file if there is one,
 * evaluate before the first step, take steps until the last or an abort (each step's event
 * stamped with its number, throughput and time), save the state every k steps and at the end,
 * evaluate every k steps and after the last, and close with a done event. What a step trains,
 * what the state file holds and which target an evaluation measures against stay with each
 * method. Yields to the event loop between steps so a kernel or UI stays responsive (and can
 * abort).
 */
import * as fs from "node:fs";
import type {
  MethodEvaluationEvent,
  MethodEvent,
  MethodName,
  MethodStepEvent,
  TargetDistributions,
} from "./methodEvents";
import {
  evaluationDue,
  type EvaluationClock,
  type MethodEvaluationOptions,
} from "./periodicEvaluation";

/** The run options every method takes (the loop reads these). */
export interface MethodRunOptions {
  steps: number;
  /** Stops the run after the step under way (the state is saved; the model keeps what it learnt). */
  signal?: AbortSignal;
  /** Training-state file: written every `checkpointEvery` steps and at the end; resumed from if present. */
  stateFile?: string;
  checkpointEvery?: number;
  /** Periodic evaluation (before the first step, every k steps, after the last). */
  evaluation?: MethodEvaluationOptions;
}

/** What one training step reports: the step event's method-specific fields. */
export interface MethodStepOutcome {
  /** Images trained on this step (for images/s). */
  images: number;
  losses: { total: number } & Record<string, number>;
  target: TargetDistributions;
  detail: Record<string, unknown>;
  biasEstimate: Record<string, number>;
  learningRate: number;
}

/** What the loop asks of a method. */
export interface MethodRun {
  /** The run's wall clock (also the evaluations'): step and done times are read from it. */
  clock: EvaluationClock;
  /** Trains step `step` (0-based). */
  step(step: number): Promise<MethodStepOutcome>;
  saveState(file: string, stepsDone: number): Promise<void>;
  /** Restores the state saved in `file`; returns the steps it had done. */
  restoreState(file: string): Promise<number> | number;
  /**
   * One evaluation; `stepTarget` is the target of the step just taken (absent before the first
   * step and after the last).
   */
  evaluate(
    settings: MethodEvaluationOptions,
    stepsDone: number,
    stepTarget?: TargetDistributions,
  ): Promise<MethodEvaluationEvent>;
  /**
   * Save the state before evaluating (evaluations are slow: an abort during one keeps the step),
   * which also evaluates the last step's weights as trained, before `finish`. Default: evaluate
   * first, and evaluate the final model after `finish`.
   */
  evaluateAfterCheckpoint?: boolean;
  /** After the last step and the closing checkpoint, e.g. copies an EMA into the model. */
  finish?(): void;
  /** Just before the done event, e.g. records the run in the model's info. */
  beforeDone?(stepsDone: number): void;
}

export interface MethodRunSummary {
  stepsDone: number;
  aborted: boolean;
  finalLoss: number;
}

export async function* methodRunLoop(
  method: MethodName,
  options: MethodRunOptions,
  run: MethodRun,
): AsyncGenerator<MethodEvent, MethodRunSummary> {
  const { steps: totalSteps, stateFile, evaluation } = options;
  const startStep = stateFile && fs.existsSync(stateFile) ? await run.restoreState(stateFile) : 0;
  const due = (stepsDone: number) => evaluationDue(evaluation, stepsDone, totalSteps);
  const evaluateFirst = !run.evaluateAfterCheckpoint;
  if (evaluation && startStep === 0 && due(0)) yield await run.evaluate(evaluation, 0);
  let images = 0;
  let finalLoss = Number.NaN;
  let step = startStep;
  for (; step < totalSteps; step++) {
    if (options.signal?.aborted) break;
    const { images: stepImages, ...outcome } = await run.step(step);
    finalLoss = outcome.losses.total;
    images += stepImages;
    const elapsedMs = run.clock.runMs;
    const event: MethodStepEvent = {
      type: "step",
      method,
      step: step + 1,
      totalSteps,
      ...outcome,
      imagesPerSecond: images / (elapsedMs / 1000),
      elapsedMs,
    };
    yield event;
    const stepsDone = step + 1;
    if (evaluation && evaluateFirst && stepsDone < totalSteps && due(stepsDone)) {
      yield await run.evaluate(evaluation, stepsDone, event.target);
    }
    const every = options.checkpointEvery;
    if (stateFile && every && stepsDone % every === 0 && stepsDone < totalSteps) {
      await run.saveState(stateFile, stepsDone);
      yield { type: "checkpoint", method, step: stepsDone, file: stateFile };
    }
    if (evaluation && !evaluateFirst && due(stepsDone)) {
      yield await run.evaluate(evaluation, stepsDone, event.target);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const aborted = step < totalSteps;
  if (stateFile && step > startStep) {
    await run.saveState(stateFile, step);
    yield { type: "checkpoint", method, step, file: stateFile };
  }
  run.finish?.();
  if (evaluation && evaluateFirst && !aborted && step > startStep) {
    yield await run.evaluate(evaluation, step);
  }
  run.beforeDone?.(step);
  yield { type: "done", method, steps: step, elapsedMs: run.clock.runMs, aborted };
  return { stepsDone: step, aborted, finalLoss };
}
