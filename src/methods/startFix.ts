/**
 * Starts one of the fixes by name with one set of settings: the three methods (align: Shen et
 * al.; subgroup: Han et al.; perturb: FairDiffusion) and "plain" — FairDiffusion's loop with the
 * perturbation off, i.e. ordinary fine-tuning on the same training images, the baseline the
 * papers compare against. `fairdiff finetune` and `compareMethods` both start runs through here,
 * so a setting means the same in each.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute, INTERSECTION_SEPARATOR } from "../data/subgroups";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { trainingPreset, type TrainingPreset } from "../pipeline/presets";
import { presetVocabularyPrompts } from "../pipeline/trainPreset";
import { distributionalAlignment } from "./distributionalAlignment";
import type { DistributionalAlignmentOptions } from "./alignmentOptions";
import { fairBayesianPerturbation } from "./fairBayesianPerturbation";
import { labelledPresetExamples } from "./labelledExamples";
import type { MethodEvent, MethodName, TargetDistributions } from "./methodEvents";
import type { MethodRunOptions } from "./methodRunLoop";
import type { SamplerOptions } from "../pipeline/guidedSampler";
import { subgroupAlignedTuning } from "./subgroupAlignedTuning";

/** A fix that can be started by name: a method, or plain fine-tuning. */
export type FixName = MethodName | "plain";

export const FIX_NAMES: readonly FixName[] = ["plain", "align", "subgroup", "perturb"];

/** What each fix is called in tables and reports. */
export const FIX_LABELS: Readonly<Record<FixName, string>> = {
  plain: "plain fine-tuning",
  align: "Method 1: distributional alignment (Shen et al.)",
  subgroup: "Method 2: subgroup-aligned tuning (Han et al.)",
  perturb: "Method 3: fair Bayesian perturbation (FairDiffusion)",
};

/** Settings of one run; those a fix does not read are ignored by it (each names its own). */
export interface StartFixOptions extends MethodRunOptions {
  seed: number;
  /** Images per step (default: the method's own). */
  batchSize?: number;
  /** Peak learning rate (default: the method's own). */
  learningRate?: number;
  /** align, subgroup: prompts whose images are debiased. */
  prompts: string[];
  /** attribute → group → probability (align, subgroup: the aim; perturb, plain: the evaluation's). */
  target: TargetDistributions;
  /** align: "text-lora" (default) or "unet-lora". */
  trainable?: "text-lora" | "unet-lora";
  /** align, subgroup: LoRA rank. */
  rank?: number;
  /** align, subgroup: the sampler being tuned. */
  sampler?: SamplerOptions;
  /** align only. */
  gradient?: DistributionalAlignmentOptions["gradient"];
  gradientSteps?: number;
  fairnessWeight?: number;
  semanticWeight?: number;
  semanticFeatures?: DistributionalAlignmentOptions["semanticFeatures"];
  changedTargetFactor?: number;
  changedReference?: DistributionalAlignmentOptions["changedReference"];
  priorWeight?: number;
  /**
   * align: what the prior term holds — "prompt" (default: the tuned prompt naming each group) or
   * "training" (the captions of the model's preset cohort, every finding: trainingCaptions).
   */
  priorCaptions?: PriorCaptionSource;
  priorChain?: DistributionalAlignmentOptions["priorChain"];
  distillWeight?: number;
  distillGuidance?: number;
  teacherGuidanceScale?: number;
  assignmentFeedback?: number;
  holdWeight?: number;
  threshold?: number;
  targetSlots?: DistributionalAlignmentOptions["targetSlots"];
  /** subgroup only. */
  consistencyWeight?: number;
  confidenceWeight?: number;
  /** End on a moving average of the tuned weights (every method). */
  emaDecay?: number;
  /** perturb, plain: training examples rendered from the model's preset (default: its cohort size). */
  cohortSize?: number;
  /** perturb, plain: the subgroup classifier the evaluation uses. */
  classifier?: SubgroupClassifier;
}

/** Where Method 1's prior term takes its captions from (StartFixOptions.priorCaptions). */
export type PriorCaptionSource = "prompt" | "training";
export const PRIOR_CAPTION_SOURCES: readonly PriorCaptionSource[] = ["prompt", "training"];

/**
 * The full captions of `model`'s preset cohort (every finding, sex and race named), less the
 * tuned prompts: what the model was trained to draw, which the tuning should leave as it was.
 */
export function trainingCaptions(
  model: LatentDiffusionModel,
  prompts: readonly string[],
): string[] {
  // No guess here: another preset's captions would hold prompts the model never learnt.
  const preset = recordedPreset(model);
  if (!preset) {
    throw new Error(
      'prior captions "training" (--prior-captions training): the model does not record the preset it was trained from; hold the tuned prompt\'s own captions ("prompt", the default) or, from the library, pass the captions it was trained on as priorCaptions',
    );
  }
  const tuned = new Set(prompts);
  return presetVocabularyPrompts(preset).filter((caption) => !tuned.has(caption));
}

/** The training preset `model` records in its info, if it records one. */
function recordedPreset(model: LatentDiffusionModel): TrainingPreset | undefined {
  return typeof model.info.preset === "string" ? trainingPreset(model.info.preset) : undefined;
}

/** The single attributes a target names (an intersection's components included). */
export function componentAttributes(target: TargetDistributions): string[] {
  return [...new Set(Object.keys(target).flatMap((a) => a.split(INTERSECTION_SEPARATOR)))];
}

/** Starts `fix` on `model` (tuned in place); the events are the method's own. */
export function startFix(
  fix: FixName,
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: StartFixOptions,
): AsyncGenerator<MethodEvent, unknown> {
  const { prompts, target, ...shared } = options;
  const common = {
    steps: shared.steps,
    seed: shared.seed,
    batchSize: shared.batchSize,
    learningRate: shared.learningRate,
    stateFile: shared.stateFile,
    restart: shared.restart,
    checkpointEvery: shared.checkpointEvery,
    evaluation: shared.evaluation,
    signal: shared.signal,
    emaDecay: shared.emaDecay,
  };
  const getTarget = () => target;
  if (fix === "align") {
    return distributionalAlignment(model, classifier, {
      ...common,
      prompts,
      target: getTarget,
      trainable: shared.trainable,
      rank: shared.rank,
      gradient: shared.gradient,
      sampler: shared.sampler,
      gradientSteps: shared.gradientSteps,
      fairnessWeight: shared.fairnessWeight,
      semanticWeight: shared.semanticWeight,
      semanticFeatures: shared.semanticFeatures,
      changedTargetFactor: shared.changedTargetFactor,
      changedReference: shared.changedReference,
      priorWeight: shared.priorWeight,
      ...(shared.priorCaptions === "training"
        ? { priorCaptions: trainingCaptions(model, prompts) }
        : {}),
      priorChain: shared.priorChain,
      distillWeight: shared.distillWeight,
      distillGuidance: shared.distillGuidance,
      teacherGuidanceScale: shared.teacherGuidanceScale,
      assignmentFeedback: shared.assignmentFeedback,
      holdWeight: shared.holdWeight,
      threshold: shared.threshold,
      targetSlots: shared.targetSlots,
    });
  }
  if (fix === "subgroup") {
    return subgroupAlignedTuning(model, classifier, {
      ...common,
      prompts,
      target: getTarget,
      rank: shared.rank,
      sampler: shared.sampler,
      consistencyWeight: shared.consistencyWeight,
      confidenceWeight: shared.confidenceWeight,
    });
  }
  // perturb and plain: the preset's own training images, labelled with their groups (cxr-mini's,
  // the shipped model's, when the model records no preset).
  const preset = recordedPreset(model) ?? trainingPreset("cxr-mini");
  const examples = labelledPresetExamples(preset, shared.cohortSize ?? preset.cohortSize);
  const attributes = componentAttributes(target).map((name) =>
    defineAttribute(name, classifier.task(name).classes),
  );
  return fairBayesianPerturbation(model, {
    ...common,
    examples,
    attributes,
    target: getTarget,
    classifier,
    ...(fix === "plain" ? { perturbation: "none" as const } : {}),
  });
}
