/**
 * Distributional alignment's resumable state, in the one run-state format (runState.ts): the
 * trained parameters, their EMA, the optimiser's moments and the step reached, bound to every
 * setting that shapes the result. A run resumed from it continues exactly as an uninterrupted one
 * (every step's randomness derives from (seed, step)); a run with other settings is refused.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { StepOptimizer } from "../parallel/optimizerSpec";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { WeightAverage } from "../pipeline/ema";
import {
  loadRunState,
  restoreVariables,
  saveRunState,
  variablesState,
  variableShapes,
  type RunSettings,
} from "../pipeline/runState";
import {
  classifierFingerprint,
  modelFingerprint,
  promptsSetting,
  targetSetting,
} from "../pipeline/runSettings";
import type {
  DistributionalAlignmentOptions,
  ResolvedAlignmentOptions,
} from "./distributionalAlignment";

export const ALIGNMENT_STATE_KIND = "distributional-alignment-state";

/**
 * What an alignment run's result depends on: the model and classifier it starts from (call
 * before anything is attached to the model), the prompts, the target as the run starts (a
 * target moved mid-run, by a live slider, is not tracked), and every training setting. Left out:
 * checkpointing, evaluation, `mergeAtEnd` — they do not change the trained parameters.
 */
export async function alignmentRunSettings(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: DistributionalAlignmentOptions,
  resolved: ResolvedAlignmentOptions,
): Promise<RunSettings> {
  const lora = resolved.trainable !== "soft-prompt";
  const rank = options.rank ?? 4;
  return {
    model: await modelFingerprint(model),
    classifier: await classifierFingerprint(classifier),
    prompts: promptsSetting(options.prompts),
    target: targetSetting(options.target()),
    steps: options.steps,
    seed: options.seed,
    "batch size": resolved.batchSize,
    "learning rate": resolved.learningRate,
    schedule: resolved.schedule,
    "warm-up steps": resolved.warmupSteps,
    beta1: resolved.beta1,
    "weight decay": resolved.weightDecay,
    "clip norm": resolved.clipNorm,
    trainable: resolved.trainable,
    "LoRA rank": lora ? rank : null,
    "LoRA alpha": lora ? (options.alpha ?? rank) : null,
    "soft prompt tokens": lora ? null : (options.softPromptTokens ?? 5),
    threshold: resolved.threshold,
    "semantic weight": resolved.semanticWeight,
    "changed-target factor": resolved.changedTargetFactor,
    "semantic features":
      typeof resolved.semanticFeatures === "function" ? "custom" : resolved.semanticFeatures,
    "sampling steps": resolved.samplingSteps,
    guidance: resolved.guidanceScale,
    gradient: resolved.gradient,
    "gradient steps": resolved.gradientSteps,
    "target draws": resolved.targetDraws,
    "EMA decay": options.emaDecay ?? null,
  };
}

export async function saveAlignmentState(
  file: string,
  settings: RunSettings,
  step: number,
  totalSteps: number,
  variables: tf.Variable[],
  optimizer: StepOptimizer,
  ema: WeightAverage | undefined,
): Promise<void> {
  saveRunState(file, ALIGNMENT_STATE_KIND, settings, variableShapes(variables), {
    step,
    complete: step >= totalSteps,
    ...(await variablesState(variables, optimizer, ema)),
  });
}

/** Restores parameters, EMA and optimiser from `file`; returns the step it was written at. */
export function restoreAlignmentState(
  file: string,
  settings: RunSettings,
  variables: tf.Variable[],
  optimizer: StepOptimizer,
  ema: WeightAverage | undefined,
): number {
  const state = loadRunState(file, ALIGNMENT_STATE_KIND, settings, variableShapes(variables));
  restoreVariables(file, state, variables, optimizer, ema);
  return state.step;
}
