/**
 * The step loop the three mitigation methods share: resume from the state file if there is one,
 * evaluate before the first step, take steps until the last or an abort (each step's event
 * stamped with its number, throughput and time), save the state every k steps and at the end,
 * evaluate every k steps and after the last, and close with a done event. A step whose loss,
 * gradient or update is not finite stops the run with an error naming the last good state, and
 * nothing more is saved (src/parallel/nonFiniteStep.ts). What a step trains, what the state file
 * holds and which target an evaluation measures against stay with each method. Yields to the
 * event loop between steps so a kernel or UI stays responsive (and can abort).
 */
import { NonFiniteStepError, stoppedRunError, type SavedState } from "../parallel/nonFiniteStep";
import { stateToResume } from "../pipeline/runState";
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
  /** Delete an existing state file and start over (default: resume from it, if its settings match). */
  restart?: boolean;
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
  const resumeFrom = stateToResume(stateFile, options.restart);
  const startStep = resumeFrom ? await run.restoreState(resumeFrom) : 0;
  const due = (stepsDone: number) => evaluationDue(evaluation, stepsDone, totalSteps);
  const evaluateFirst = !run.evaluateAfterCheckpoint;
  // Stopping is one mechanism: an abort that lands inside an evaluation (its sampling stops)
  // ends the run like one between steps, keeping and saving what was learnt.
  const stopped = () => options.signal?.aborted === true;
  const evaluate = async (stepsDone: number, target?: MethodStepEvent["target"]) => {
    if (!evaluation || stopped()) return undefined;
    try {
      return await run.evaluate(evaluation, stepsDone, target);
    } catch (error) {
      if (stopped()) return undefined;
      throw error;
    }
  };
  if (startStep === 0 && due(0)) {
    const event = await evaluate(0);
    if (event) yield event;
  }
  let images = 0;
  let finalLoss = Number.NaN;
  let step = startStep;
  let lastState: SavedState | undefined =
    stateFile && startStep > 0 ? { file: stateFile, step: startStep } : undefined;
  for (; step < totalSteps; step++) {
    if (options.signal?.aborted) break;
    let stepOutcome: MethodStepOutcome;
    try {
      stepOutcome = await run.step(step);
      // Methods refuse a non-finite step before applying it (gradientStep.ts); this catches one
      // that reports a loss its update did not check.
      const total = stepOutcome.losses.total;
      if (!Number.isFinite(total)) {
        throw new NonFiniteStepError("loss", total, stepOutcome.learningRate);
      }
    } catch (error) {
      if (error instanceof NonFiniteStepError) throw stoppedRunError(error, step + 1, lastState);
      throw error;
    }
    const { images: stepImages, ...outcome } = stepOutcome;
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
    if (evaluateFirst && stepsDone < totalSteps && due(stepsDone)) {
      const evaluated = await evaluate(stepsDone, event.target);
      if (evaluated) yield evaluated;
    }
    const every = options.checkpointEvery;
    if (stateFile && every && stepsDone % every === 0 && stepsDone < totalSteps) {
      await run.saveState(stateFile, stepsDone);
      lastState = { file: stateFile, step: stepsDone };
      yield { type: "checkpoint", method, step: stepsDone, file: stateFile };
    }
    if (!evaluateFirst && due(stepsDone)) {
      const evaluated = await evaluate(stepsDone, event.target);
      if (evaluated) yield evaluated;
    }
    if (stopped()) {
      step = stepsDone;
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const aborted = step < totalSteps;
  if (stateFile && step > startStep) {
    await run.saveState(stateFile, step);
    yield { type: "checkpoint", method, step, file: stateFile };
  }
  run.finish?.();
  if (evaluateFirst && !aborted && step > startStep) {
    const evaluated = await evaluate(step);
    if (evaluated) yield evaluated;
  }
  run.beforeDone?.(step);
  yield { type: "done", method, steps: step, elapsedMs: run.clock.runMs, aborted };
  return { stepsDone: step, aborted, finalLoss };
}
