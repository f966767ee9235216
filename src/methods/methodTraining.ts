/**
 * A method's run around the shared step loop (methodRunLoop.ts), the same for the three methods:
 * the optimiser for what the adapters train, the state file (those variables, their EMA, the
 * optimiser, plus any extra the method needs to continue exactly), the periodic evaluation, the
 * EMA copied in at the end, and how the run leaves the model. Stopping is one mechanism: finished
 * or aborted — between steps or inside an evaluation, or by the caller leaving the loop — the
 * model keeps what it learnt (`TrainedAdapters.keep`); after an error it is left as it was given
 * (`drop`), the state file holding the last good step.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { RunSettings } from "../pipeline/runState";
import type { TrainedAdapters } from "./adapters";
import type { MethodEvent, MethodName, TargetDistributions } from "./methodEvents";
import { MethodOptimization } from "./methodOptimization";
import type { ResolvedMethodOptions } from "./methodOptions";
import {
  methodRunLoop,
  type MethodRunOptions,
  type MethodRunSummary,
  type MethodStepOutcome,
} from "./methodRunLoop";
import { EvaluationClock, periodicEvaluation } from "./periodicEvaluation";

export interface MethodTraining<Extra> {
  /** What is trained, attached to the model; the run ends it (keep or drop). */
  adapters: TrainedAdapters;
  /** The state file's kind and the settings it is bound to (taken before anything was attached). */
  stateKind: string;
  settings: RunSettings;
  /** What else the state must carry to continue exactly (Method 3's σ search). */
  extraState?: { save(): Extra; restore(extra: Extra | undefined, file: string): void };
  /** Trains step `step` (0-based) with the run's optimiser. */
  step(step: number, optimization: MethodOptimization): Promise<MethodStepOutcome>;
  /**
   * The evaluation's classifier, and the target it measures against (`stepTarget`: the target
   * of the step just taken, absent before the first step and after the last).
   */
  evaluation: {
    classifier: SubgroupClassifier | undefined;
    target(stepTarget?: TargetDistributions): TargetDistributions;
  };
  /** See MethodRun.evaluateAfterCheckpoint. */
  evaluateAfterCheckpoint?: boolean;
  beforeDone?(stepsDone: number): void;
}

export async function* trainMethod<Extra = undefined>(
  method: MethodName,
  options: MethodRunOptions,
  resolved: ResolvedMethodOptions,
  training: MethodTraining<Extra>,
): AsyncGenerator<MethodEvent, MethodRunSummary> {
  const { adapters, stateKind, settings, extraState } = training;
  let failed = false;
  let optimization: MethodOptimization | undefined;
  try {
    const trained = await MethodOptimization.create(adapters.variables, resolved);
    optimization = trained;
    const clock = new EvaluationClock();
    return yield* methodRunLoop(method, options, {
      clock,
      step: (step) => training.step(step, trained),
      saveState: (file, stepsDone) =>
        trained.saveState(file, stateKind, settings, stepsDone, extraState?.save()),
      restoreState: (file) => {
        const state = trained.loadState<Extra>(file, stateKind, settings);
        extraState?.restore(state.extra, file);
        return state.step;
      },
      evaluate: (evaluation, stepsDone, stepTarget) =>
        periodicEvaluation(
          adapters.model,
          training.evaluation.classifier as SubgroupClassifier,
          evaluation,
          {
            method,
            step: stepsDone,
            target: training.evaluation.target(stepTarget),
            clock,
            signal: options.signal,
          },
        ),
      evaluateAfterCheckpoint: training.evaluateAfterCheckpoint,
      // After the final state (live weights, for resuming) is saved: the average is the result.
      finish: () => trained.useAverage(),
      beforeDone: training.beforeDone,
    });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (failed) adapters.drop();
    else adapters.keep();
    optimization?.dispose();
  }
}
