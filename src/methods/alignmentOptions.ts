/**
 * Method 1's options (docs/methods.md §2.6): the shared ones (methodOptions.ts, adapters.ts,
 * methodSampler.ts) with its defaults, and its own — the confidence threshold, the semantic term,
 * the chain gradient and the optimal-transport draws —, checked before any work.
 */
import { promptSubject } from "../data/promptSubject";
import type { SettingValue } from "../pipeline/runState";
import { textsFingerprint } from "../pipeline/runSettings";
import { SEMANTIC_FEATURE_KINDS, type SemanticFeatures } from "./alignmentLoss";
import { checkChoice, checkInteger, checkNumber, MethodOptionError } from "./methodOptionError";
import type { MethodDefaults, PromptedMethodOptions } from "./methodOptions";
import {
  resolveMethodSampler,
  type MethodSamplerOptions,
  type SamplerSettings,
} from "./methodSampler";
import { DEFAULT_FEEDBACK_GAIN } from "./assignmentFeedback";
import { DEFAULT_TARGET_DRAWS, type TargetSlots } from "./optimalTransportTargets";
import type { ChainGradientMode } from "./samplingChainGradient";

export interface DistributionalAlignmentOptions
  extends PromptedMethodOptions, MethodSamplerOptions {
  /** Confidence c_i below which an image gets no fairness loss (default 0.8). */
  threshold?: number;
  /**
   * Weight of the fairness cross-entropy (default 1, as in Shen et al.). With prompted references
   * the target can be reached through them alone: 0 leaves the classifier out of the gradient
   * (it still assigns the targets).
   */
  fairnessWeight?: number;
  /** Weight of the semantic term (default 10); images whose target changes get this × changedTargetFactor (default 0.2). */
  semanticWeight?: number;
  changedTargetFactor?: number;
  semanticFeatures?: SemanticFeatures;
  /**
   * What an image whose target differs from its original group is compared with by the semantic
   * term: "neutral" (Shen et al.: the original model's image from the same prompt and noise, at
   * changedTargetFactor × the weight) or "prompted" (the original model's image from the same
   * noise for the prompt naming the target's groups, at full weight: promptedReferences.ts).
   */
  changedReference?: ChangedReference;
  /**
   * Weight of the prior-preservation term (default 0: off): prompts naming the patient's groups
   * keep the original model's noise predictions (priorPreservation.ts).
   */
  priorWeight?: number;
  /**
   * The captions the prior term holds, one drawn per image (default: the tuned prompt naming
   * groups drawn at random). A model's training captions (`trainingCaptions`) hold every prompt it
   * knows — other findings too, which a LoRA shared by every prompt otherwise moves.
   */
  priorCaptions?: readonly string[];
  /**
   * Where the prior term holds its prompts (default "tuned": on the latents of the tuned prompt's
   * chain at that step; "original": on each held prompt's own chain, the original model's from
   * the image's noise — where that prompt's images are drawn, at k more network evaluations).
   */
  priorChain?: PriorChain;
  /**
   * Weight of the prompted-distillation term (default 0: off): the step's prompt learns, at one
   * chain step, the original model's noise predictions for the prompt naming each image's target
   * groups, on that named prompt's chain from the image's noise (promptedDistillation.ts).
   */
  distillWeight?: number;
  /**
   * Classifier-guidance scale of the distillation's teacher (default 0.1; 0: off): the original
   * model is also guided toward each image's target groups, so it draws them where the prompt
   * cannot name them (age on chest radiographs) or names them weakly (groupGuidance.ts). With it
   * on, every targeted attribute is carried by the distillation, none by the cross-entropy.
   */
  distillGuidance?: number;
  /**
   * Classifier-free guidance scale of the distillation's teacher — its chain and its prediction
   * for the named prompts (default: the sampler's). cxr-mini draws named groups far from real
   * radiographs at the sampler's 3 (FID within Asian 3,178 for "… a Asian patient …", 1,732 at
   * 2, against 1,031 for the neutral prompt's own Asian images:
   * docs/measurements/2026-12-07-teacher), and the tuned prompt learns what its teacher draws.
   */
  teacherGuidanceScale?: number;
  /**
   * Gain of the distillation's assignment feedback (default 2 with distillWeight > 0, else 0:
   * off): the share of images whose teacher names each group moves away from the target by
   * gain × the tuned model's measured shortfall in that group (assignmentFeedback.ts), so that
   * the model, not its teacher's assignment, ends on the target.
   */
  assignmentFeedback?: number;
  /**
   * Weight of the preservation term (default 0: off): each image keeps, for every attribute the
   * target does not name, the group the original model's image from the same noise shows.
   */
  holdWeight?: number;
  /** "adjusted" (default, Shen et al.) or the exact chain gradient. */
  gradient?: ChainGradientMode;
  /**
   * Adjusted mode: back-propagate through this many of the sampler's steps per training step,
   * drawn afresh (seeded) and re-weighted so the gradient stays unbiased (default: all; fewer
   * is faster and noisier — an addition to Shen et al. for CPU budgets).
   */
  gradientSteps?: number;
  /** Target sets drawn per step for attributes with more than two groups (default 64). */
  targetDraws?: number;
  /**
   * How each draw's target slots are made for attributes with more than two groups (default
   * "stratified": ⌊N·t_g⌋ per group, the rest by systematic sampling; "iid" is Shen et al.'s
   * per-slot draw, whose counts swing ±1.3 slots per group in a batch of 8 with three groups,
   * leaving most images that should change below the confidence threshold).
   */
  targetSlots?: TargetSlots;
}

export const CHANGED_REFERENCES = ["neutral", "prompted"] as const;
export type ChangedReference = (typeof CHANGED_REFERENCES)[number];
export const PRIOR_CHAINS = ["tuned", "original"] as const;
export type PriorChain = (typeof PRIOR_CHAINS)[number];

/** Method 1's defaults (docs/methods.md §2.6). */
export const ALIGNMENT_DEFAULTS: MethodDefaults = {
  batchSize: 8,
  learningRate: 3e-3,
  weightDecay: 1e-2,
  warmupSteps: 0,
  trainable: ["text-lora"],
  prompted: true,
};

/** Method 1's own options after defaults. */
export interface AlignmentSettings {
  threshold: number;
  fairnessWeight: number;
  semanticWeight: number;
  changedTargetFactor: number;
  semanticFeatures: SemanticFeatures;
  changedReference: ChangedReference;
  priorWeight: number;
  priorCaptions: readonly string[] | undefined;
  priorChain: PriorChain;
  distillWeight: number;
  distillGuidance: number;
  teacherGuidanceScale: number;
  assignmentFeedback: number;
  holdWeight: number;
  gradient: ChainGradientMode;
  gradientSteps: number;
  targetDraws: number;
  targetSlots: TargetSlots;
  sampler: SamplerSettings;
}

export function resolveAlignmentOptions(
  options: DistributionalAlignmentOptions,
): AlignmentSettings {
  // Gradients flow back through the deterministic DDIM chain.
  const sampler = resolveMethodSampler(options, { deterministicDdim: true });
  const gradient = checkChoice("gradient", options.gradient ?? "adjusted", ["adjusted", "exact"]);
  const gradientSteps = checkInteger("gradientSteps", options.gradientSteps ?? sampler.steps, 1);
  if (gradientSteps > sampler.steps) {
    throw new MethodOptionError(
      "gradientSteps",
      gradientSteps,
      `≤ sampler.steps (${sampler.steps})`,
    );
  }
  if (gradient === "exact" && gradientSteps < sampler.steps) {
    throw new MethodOptionError(
      "gradientSteps",
      gradientSteps,
      `sampler.steps (${sampler.steps}) with the exact gradient (a subset needs "adjusted")`,
    );
  }
  const features = options.semanticFeatures ?? "classifier";
  if (typeof features !== "function")
    checkChoice("semanticFeatures", features, SEMANTIC_FEATURE_KINDS);
  const changedReference = checkChoice(
    "changedReference",
    options.changedReference ?? "neutral",
    CHANGED_REFERENCES,
  );
  const priorWeight = checkNumber("priorWeight", options.priorWeight ?? 0, { min: 0 });
  // Both name the prompts' groups: every prompt must be in a format whose subject can be read.
  if (changedReference === "prompted") {
    checkPromptsNameGroups(options.prompts, "changedReference", changedReference, '"neutral"');
  }
  const priorCaptions = options.priorCaptions;
  if (priorCaptions !== undefined && (priorCaptions.length === 0 || priorWeight === 0)) {
    throw new MethodOptionError(
      "priorCaptions",
      `${priorCaptions.length} captions`,
      priorWeight === 0 ? "left out unless priorWeight > 0" : "at least one caption",
    );
  }
  const priorChain = checkChoice("priorChain", options.priorChain ?? "tuned", PRIOR_CHAINS);
  if (priorChain !== "tuned" && priorWeight === 0) {
    throw new MethodOptionError("priorChain", priorChain, '"tuned" unless priorWeight > 0');
  }
  if (priorWeight > 0 && priorCaptions === undefined) {
    checkPromptsNameGroups(options.prompts, "priorWeight", priorWeight, "0");
  }
  const distillWeight = checkNumber("distillWeight", options.distillWeight ?? 0, { min: 0 });
  if (distillWeight > 0) {
    checkPromptsNameGroups(options.prompts, "distillWeight", distillWeight, "0");
  }
  const assignmentFeedback = checkNumber(
    "assignmentFeedback",
    options.assignmentFeedback ?? (distillWeight > 0 ? DEFAULT_FEEDBACK_GAIN : 0),
    { min: 0 },
  );
  if (assignmentFeedback > 0 && distillWeight === 0) {
    throw new MethodOptionError(
      "assignmentFeedback",
      assignmentFeedback,
      "0 unless distillWeight > 0 (it steers the distillation's assignment)",
    );
  }
  const teacherGuidanceScale = checkNumber(
    "teacherGuidanceScale",
    options.teacherGuidanceScale ?? sampler.guidanceScale,
    { above: 0 },
  );
  if (options.teacherGuidanceScale !== undefined && distillWeight === 0) {
    throw new MethodOptionError(
      "teacherGuidanceScale",
      teacherGuidanceScale,
      "left out unless distillWeight > 0 (it is the distillation teacher's)",
    );
  }
  return {
    threshold: checkNumber("threshold", options.threshold ?? 0.8, { min: 0, max: 1 }),
    fairnessWeight: checkNumber("fairnessWeight", options.fairnessWeight ?? 1, { min: 0 }),
    semanticWeight: checkNumber("semanticWeight", options.semanticWeight ?? 10, { min: 0 }),
    changedTargetFactor: checkNumber("changedTargetFactor", options.changedTargetFactor ?? 0.2, {
      min: 0,
      max: 1,
    }),
    semanticFeatures: features,
    changedReference,
    priorWeight,
    priorCaptions,
    priorChain,
    distillWeight,
    distillGuidance: checkNumber("distillGuidance", options.distillGuidance ?? 0.1, { min: 0 }),
    teacherGuidanceScale,
    assignmentFeedback,
    holdWeight: checkNumber("holdWeight", options.holdWeight ?? 0, { min: 0 }),
    gradient,
    gradientSteps,
    targetDraws: checkInteger("targetDraws", options.targetDraws ?? DEFAULT_TARGET_DRAWS, 1),
    targetSlots: checkChoice("targetSlots", options.targetSlots ?? "stratified", [
      "stratified",
      "iid",
    ]),
    sampler,
  };
}

/** Refuses `option` unless every prompt's subject can be read and rewritten (promptSubject.ts). */
function checkPromptsNameGroups(
  prompts: readonly string[],
  option: string,
  value: unknown,
  off: string,
): void {
  for (const prompt of prompts) {
    try {
      promptSubject(prompt);
    } catch (error) {
      throw new MethodOptionError(
        option,
        value,
        `${off} for these prompts (${(error as Error).message})`,
      );
    }
  }
}

/** Method 1's own settings in its state file. */
export function alignmentRunSettings(settings: AlignmentSettings): Record<string, SettingValue> {
  const features = settings.semanticFeatures;
  return {
    threshold: settings.threshold,
    "fairness weight": settings.fairnessWeight,
    "semantic weight": settings.semanticWeight,
    "changed-target factor": settings.changedTargetFactor,
    "semantic features": typeof features === "function" ? "custom" : features,
    "changed reference": settings.changedReference,
    "prior weight": settings.priorWeight,
    ...(settings.priorCaptions
      ? { "prior captions": textsFingerprint(settings.priorCaptions) }
      : {}),
    ...(settings.priorChain !== "tuned" ? { "prior chain": settings.priorChain } : {}),
    // Only where on: state files of runs without it keep their settings.
    ...(settings.distillWeight > 0
      ? { "distill weight": settings.distillWeight, "distill guidance": settings.distillGuidance }
      : {}),
    // Only where it differs from the sampler's: earlier state files keep their settings.
    ...(settings.distillWeight > 0 &&
    settings.teacherGuidanceScale !== settings.sampler.guidanceScale
      ? { "teacher guidance": settings.teacherGuidanceScale }
      : {}),
    ...(settings.assignmentFeedback > 0
      ? { "assignment feedback": settings.assignmentFeedback }
      : {}),
    "hold weight": settings.holdWeight,
    "sampling steps": settings.sampler.steps,
    guidance: settings.sampler.guidanceScale,
    gradient: settings.gradient,
    "gradient steps": settings.gradientSteps,
    "target draws": settings.targetDraws,
    "target slots": settings.targetSlots,
  };
}
