/**
 * Method 1 (Shen et al., ICLR 2024): distributional alignment with adjusted direct fine-tuning.
 *
 * Every step: one prompt (round robin), N images from seeded noise with the current model,
 * classified; per attribute, optimal-transport targets toward the target distribution (read
 * through the getter every step, so a slider can move it mid-run); the loss (cross-entropy toward
 * confident targets + semantic preservation against the original model's image from the same
 * noise — or, with prompted references, for an image that must change group, its image for the
 * prompt naming the target: promptedReferences.ts) is back-propagated through the decoder and the
 * whole DDIM sampling chain — adjusted (network inputs detached, every step's ε on one scale) or
 * exact — with checkpointing, into what is trained (adapters.ts; default LoRA on the text
 * encoder); plus, when on, the prior-preservation and prompted-distillation terms' own gradients
 * at one chain step (priorPreservation.ts, promptedDistillation.ts; the distillation's teacher
 * classifier-guided toward each image's targets, groupGuidance.ts, and the shares it assigns
 * steered by what the tuned model draws, assignmentFeedback.ts); AdamW. When no term needs
 * the chain's output (no cross-entropy, semantic or hold term), its backward is skipped. Emits
 * MethodEvent values. This file wires the run; the step is alignmentStep.ts.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { RunSettings } from "../pipeline/runState";
import {
  classifierFingerprint,
  modelFingerprint,
  promptsSetting,
  targetSetting,
} from "../pipeline/runSettings";
import { createRng } from "../util/random";
import { TrainedAdapters } from "./adapters";
import { resolveAlignmentAttributes } from "./alignmentAttributes";
import {
  ALIGNMENT_DEFAULTS,
  alignmentRunSettings,
  resolveAlignmentOptions,
  type DistributionalAlignmentOptions,
} from "./alignmentOptions";
import { alignmentStep } from "./alignmentStep";
import { AssignmentFeedback, type AssignmentFeedbackState } from "./assignmentFeedback";
import { checkClassifierReadsModelImages } from "./classifierImageSize";
import type { MethodEvent, TargetGetter } from "./methodEvents";
import type { MethodOptimization } from "./methodOptimization";
import { commonRunSettings, resolveMethodOptions } from "./methodOptions";
import type { MethodRunSummary, MethodStepOutcome } from "./methodRunLoop";
import { distributionsOf } from "./methodTarget";
import { trainMethod } from "./methodTraining";
import { DdimSamplingChain } from "./samplingChainGradient";

export type { DistributionalAlignmentOptions } from "./alignmentOptions";

export interface DistributionalAlignmentSummary extends MethodRunSummary {
  trainableParameters: number;
}

const STATE_KIND = "distributional-alignment-state";

export async function* distributionalAlignment(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: DistributionalAlignmentOptions,
): AsyncGenerator<MethodEvent, DistributionalAlignmentSummary> {
  const resolved = resolveMethodOptions(options, ALIGNMENT_DEFAULTS);
  const alignment = resolveAlignmentOptions(options);
  checkClassifierReadsModelImages(classifier, model);
  const getTarget = resolved.target as TargetGetter;
  // Fail on a bad target before any work.
  resolveAlignmentAttributes(classifier, getTarget());
  // Before anything is attached to the model: what the run starts from.
  const settings: RunSettings = {
    model: await modelFingerprint(model),
    classifier: await classifierFingerprint(classifier),
    prompts: promptsSetting(options.prompts),
    target: targetSetting(getTarget()),
    ...commonRunSettings(resolved),
    ...alignmentRunSettings(alignment),
  };
  const chain = await DdimSamplingChain.create(alignment.sampler.steps, model.config.noise);
  const adapters = await TrainedAdapters.attach(
    model,
    resolved.adapters,
    createRng(resolved.seed).fork("trainable"),
    // The semantic, prior and distillation terms compare with the original model.
    {
      keepOriginal:
        alignment.semanticWeight > 0 || alignment.priorWeight > 0 || alignment.distillWeight > 0,
    },
  );
  const trainableParameters = adapters.parameterCount();
  const n = resolved.batchSize;
  const feedback =
    alignment.assignmentFeedback > 0
      ? new AssignmentFeedback({ gain: alignment.assignmentFeedback })
      : undefined;
  const step = async (
    step: number,
    optimization: MethodOptimization,
  ): Promise<MethodStepOutcome> => {
    const attributes = resolveAlignmentAttributes(classifier, getTarget());
    const prompt = options.prompts[step % options.prompts.length];
    const learningRate = optimization.learningRateAt(step);
    const outcome = await alignmentStep({
      adapters,
      classifier,
      optimization,
      chain,
      settings: alignment,
      attributes,
      prompts: new Array<string>(n).fill(prompt),
      learningRate,
      feedback,
      // Per-step randomness from (seed, step): a resumed run continues as an uninterrupted one.
      noiseSeed: createRng(resolved.seed).fork(`align-noise:${step}`).uint32(),
      targetRngSeed: createRng(resolved.seed).fork(`align-targets:${step}`).uint32(),
    });
    return {
      images: n,
      losses: outcome.losses,
      target: distributionsOf(attributes),
      detail: { prompt, gradientNorm: outcome.gradientNorm, ...outcome.detail },
      biasEstimate: outcome.biasEstimate,
      learningRate,
    };
  };
  const summary = yield* trainMethod<AssignmentFeedbackState>("align", options, resolved, {
    adapters,
    stateKind: STATE_KIND,
    settings,
    // The running shares steer the next steps' assignments: a resumed run needs them.
    extraState: feedback && {
      save: () => feedback.save(),
      restore: (extra, file) => {
        if (!extra) throw new Error(`${file} holds no assignment-feedback state`);
        feedback.restore(extra);
      },
    },
    step,
    // Against the target as the getter returns it at that moment.
    evaluation: { classifier, target: () => getTarget() },
    evaluateAfterCheckpoint: true,
  });
  return { ...summary, trainableParameters };
}
