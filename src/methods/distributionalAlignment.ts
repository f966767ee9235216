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
 * MethodEvent values.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { disposeTextEmbedding } from "../models/textEncoder";
import { encodeGuidance } from "../pipeline/guidedSampler";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { RunSettings } from "../pipeline/runState";
import {
  classifierFingerprint,
  modelFingerprint,
  promptsSetting,
  targetSetting,
} from "../pipeline/runSettings";
import { initialLatents } from "../pipeline/textToImage";
import { createRng } from "../util/random";
import { TrainedAdapters } from "./adapters";
import {
  resolveAlignmentAttributes,
  untargetedAttributes,
  type AlignmentAttribute,
} from "./alignmentAttributes";
import {
  ALIGNMENT_DEFAULTS,
  alignmentRunSettings,
  resolveAlignmentOptions,
  type AlignmentSettings,
  type DistributionalAlignmentOptions,
} from "./alignmentOptions";
import {
  batchTargets,
  batchTargetsDetail,
  headProbabilities,
  confidentGroups,
  predictedGroups,
  sampledGroups,
  semanticWeights,
} from "./alignmentBatchTargets";
import { alignmentLoss, latentsToUnitImages, semanticFeatures } from "./alignmentLoss";
import { AssignmentFeedback, type AssignmentFeedbackState } from "./assignmentFeedback";
import { attributeBlindProjection } from "./attributeBlindFeatures";
import { checkClassifierReadsModelImages } from "./classifierImageSize";
import { promptedReferencePrompts } from "./promptedReferences";
import { originalPredictionMatchGradients } from "./originalPredictionMatch";
import { distillationPrompts, distilledAttributes } from "./promptedDistillation";
import { priorPrompts } from "./priorPreservation";
import { groupGuidedPrediction, type GroupGuidance } from "./groupGuidance";
import { guidedDenoiser, textConditioningGradients } from "./guidedDenoiser";
import type { MethodEvent, TargetGetter } from "./methodEvents";
import type { MethodOptimization } from "./methodOptimization";
import { commonRunSettings, resolveMethodOptions } from "./methodOptions";
import type { MethodRunSummary, MethodStepOutcome } from "./methodRunLoop";
import { distributionsOf } from "./methodTarget";
import { trainMethod } from "./methodTraining";
import { DdimSamplingChain, disposeChainGradients, disposeTrace } from "./samplingChainGradient";

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

interface StepInputs {
  adapters: TrainedAdapters;
  classifier: SubgroupClassifier;
  optimization: MethodOptimization;
  chain: DdimSamplingChain;
  settings: AlignmentSettings;
  attributes: AlignmentAttribute[];
  /** The step's prompt, once per image. */
  prompts: string[];
  learningRate: number;
  /** Steers the distillation's assignment by the model's measured shares (when on). */
  feedback?: AssignmentFeedback;
  noiseSeed: number;
  targetRngSeed: number;
}

interface StepOutcome {
  losses: {
    total: number;
    fairness: number;
    semantic: number;
    preservation: number;
    prior?: number;
    distill?: number;
  };
  gradientNorm: number;
  biasEstimate: Record<string, number>;
  detail: Record<string, unknown>;
}

/**
 * The original model's chain from `noise`, one prompt per row, off the tape: z_0, or with `steps`
 * the input of step `steps` (only the steps before it are run).
 */
function originalLatents(
  inputs: StepInputs,
  prompts: string[],
  noise: tf.Tensor4D,
  steps?: number,
  guidanceScale = inputs.settings.sampler.guidanceScale,
): tf.Tensor4D {
  const { adapters, chain } = inputs;
  return adapters.original((original) => {
    const context = encodeGuidance(original.textEncoder, prompts);
    try {
      const denoiser = guidedDenoiser(original.unet, context.mask, guidanceScale);
      return chain.sample(denoiser, noise, context.embeddings, steps);
    } finally {
      disposeTextEmbedding(context);
    }
  });
}

/** The original model's images in [0, 1] from `noise`, one prompt per row. */
function originalImages(inputs: StepInputs, prompts: string[], noise: tf.Tensor4D): tf.Tensor4D {
  const latents = originalLatents(inputs, prompts, noise);
  try {
    return inputs.adapters.original((original) => latentsToUnitImages(original, latents));
  } finally {
    latents.dispose();
  }
}

/**
 * The original model's images from `noise`: their semantic features (when the term is on), their
 * predicted groups, and the confident groups of the `held` (untargeted) attributes.
 */
async function referenceImages(
  inputs: StepInputs,
  noise: tf.Tensor4D,
  projection: tf.Tensor2D | undefined,
  held: AlignmentAttribute[],
) {
  const { classifier, settings, attributes, prompts } = inputs;
  const images = originalImages(inputs, prompts, noise);
  try {
    const features =
      settings.semanticWeight > 0
        ? tf.tidy(() => semanticFeatures(settings.semanticFeatures, classifier, images, projection))
        : undefined;
    const heads = await headProbabilities(classifier, images);
    const n = prompts.length;
    return {
      features,
      groups: predictedGroups(attributes, heads, n),
      held: confidentGroups(held, heads, n, settings.threshold),
    };
  } finally {
    images.dispose();
  }
}

/**
 * The semantic reference features with the rows of `rows` replaced by the original model's images
 * for `prompts` (one per row) from the same noise; a new tensor.
 */
function withPromptedRows(
  inputs: StepInputs,
  features: tf.Tensor2D,
  noise: tf.Tensor4D,
  rows: number[],
  prompts: string[],
  projection: tf.Tensor2D | undefined,
): tf.Tensor2D {
  const { classifier, settings } = inputs;
  const rowNoise = tf.gather(noise, rows) as tf.Tensor4D;
  let images: tf.Tensor4D;
  try {
    images = originalImages(inputs, prompts, rowNoise);
  } finally {
    rowNoise.dispose();
  }
  try {
    return tf.tidy(() => {
      const prompted = semanticFeatures(settings.semanticFeatures, classifier, images, projection);
      const n = features.shape[0];
      const source = Int32Array.from({ length: n }, (_, i) => i);
      rows.forEach((row, k) => (source[row] = n + k));
      return tf.gather(tf.concat([features, prompted]), source) as tf.Tensor2D;
    });
  } finally {
    images.dispose();
  }
}

/** One fine-tuning step; frees every tensor it makes. */
async function alignmentStep(inputs: StepInputs): Promise<StepOutcome> {
  const { adapters, classifier, chain, settings, attributes, prompts } = inputs;
  const model = adapters.model;
  const n = prompts.length;
  const noise = initialLatents(model, inputs.noiseSeed, 0, n);
  let reference: Awaited<ReturnType<typeof referenceImages>> | undefined;
  let projection: tf.Tensor2D | undefined;
  const context = encodeGuidance(model.textEncoder, prompts);
  const denoiser = guidedDenoiser(
    model.unet,
    context.mask,
    settings.sampler.guidanceScale,
    adapters.unetVariables,
  );
  try {
    // 1. The original model's images from the same noise (semantic and preservation reference).
    const prompted = settings.changedReference === "prompted" && settings.semanticWeight > 0;
    // Prompted references name the untargeted groups the original image shows.
    const held =
      settings.holdWeight > 0 || prompted ? untargetedAttributes(classifier, attributes) : [];
    if (settings.semanticWeight > 0 || held.length > 0) {
      if (settings.semanticWeight > 0 && settings.semanticFeatures === "classifier-blind") {
        projection = await attributeBlindProjection(
          classifier,
          attributes.flatMap((a) => a.components.map((c) => c.head)),
        );
      }
      reference = await referenceImages(inputs, noise, projection, held);
    }
    // 2. The current model's images, kept step by step for the backward pass.
    const trace = chain.run(denoiser, noise, context.embeddings);
    try {
      const currentImages = latentsToUnitImages(model, trace.output);
      const heads = await headProbabilities(classifier, currentImages);
      currentImages.dispose();
      // 3. Optimal-transport targets per attribute.
      const { perAttribute, biasEstimate } = batchTargets(attributes, heads, n, {
        rng: createRng(inputs.targetRngSeed),
        draws: settings.targetDraws,
        threshold: settings.threshold,
        slots: settings.targetSlots,
      });
      const labels = perAttribute.map((a) => a.labels);
      // 4. Semantic weights: lighter where the target asks the image to change.
      const weights = semanticWeights(
        labels,
        reference?.groups,
        n,
        settings.semanticWeight,
        settings.changedTargetFactor,
      );
      // 4b. Prompted references: such images are compared, at full weight, with the original
      // model's image for the prompt naming their targets (promptedReferences.ts).
      let promptedRows: number[] = [];
      if (prompted && reference?.features) {
        const promptedPrompts = promptedReferencePrompts({
          classifier,
          prompts,
          attributes,
          labels,
          referenceGroups: reference.groups,
          held,
          heldGroups: reference.held,
        });
        promptedRows = promptedPrompts.flatMap((p, i) => (p === undefined ? [] : [i]));
        if (promptedRows.length > 0) {
          const replaced = withPromptedRows(
            inputs,
            reference.features,
            noise,
            promptedRows,
            promptedRows.map((i) => promptedPrompts[i] as string),
            projection,
          );
          reference.features.dispose();
          reference.features = replaced;
          for (const i of promptedRows) weights[i] = settings.semanticWeight;
        }
      }
      // 5–6. The loss at the chain's output z_0 and its gradient through the chain, when a term
      // needs them.
      // With distillation on, the attributes it carries are left out of the cross-entropy.
      const distilled =
        settings.distillWeight > 0
          ? distilledAttributes(classifier, prompts[0], attributes, settings.distillGuidance > 0)
          : attributes.map(() => false);
      const crossEntropyLabels = labels.map((l, a) =>
        distilled[a] ? new Int32Array(n).fill(-1) : l,
      );
      const atOutput =
        (settings.fairnessWeight > 0 && crossEntropyLabels.some((l) => l.some((y) => y >= 0))) ||
        settings.semanticWeight > 0 ||
        (settings.holdWeight > 0 && held.length > 0);
      const chainPart = atOutput
        ? await outputLossGradients(inputs, trace, context, denoiser, {
            labels: crossEntropyLabels,
            weights,
            reference,
            projection,
            held,
          })
        : {
            losses: { total: 0, fairness: 0, semantic: 0, preservation: 0 },
            gradients: adapters.variables.map((v) => tf.zerosLike(v)),
          };
      const { total, fairness, semantic, preservation } = chainPart.losses;
      const byVariable = new Map<tf.Variable, tf.Tensor>();
      adapters.variables.forEach((v, i) => byVariable.set(v, chainPart.gradients[i]));
      const addTerm = (gradients: tf.Tensor[]) => {
        adapters.variables.forEach((v, i) => {
          const sum = tf.add(byVariable.get(v) as tf.Tensor, gradients[i]);
          (byVariable.get(v) as tf.Tensor).dispose();
          byVariable.set(v, sum);
        });
        tf.dispose(gradients);
      };
      let prior = 0;
      let distill = 0;
      let assigned: number[][] | undefined;
      let gradientNorm: number;
      try {
        // 6b. Prior preservation: at one chain step, on its latents (priorPreservation.ts).
        if (settings.priorWeight > 0) {
          const rng = createRng(inputs.targetRngSeed).fork("prior");
          const k = rng.int(chain.steps);
          const held = priorPrompts(prompts[0], n, rng, settings.priorCaptions);
          // "original": each held prompt on its own chain (the original model's, from the
          // image's noise), where its images are drawn — not only on the tuned prompt's.
          const ownChain = settings.priorChain === "original";
          const latents = ownChain ? originalLatents(inputs, held, noise, k) : trace.inputs[k];
          try {
            const term = await originalPredictionMatchGradients({
              adapters,
              prompts: held,
              latents,
              t: chain.timesteps[k],
              guidanceScale: settings.sampler.guidanceScale,
              weight: settings.priorWeight,
            });
            prior = term.loss;
            addTerm(term.gradients);
          } finally {
            if (ownChain) latents.dispose();
          }
        }
        // 6c. Prompted distillation: the step's prompt learns, at one chain step, the original's
        // predictions for the prompt naming each image's target (promptedDistillation.ts).
        if (settings.distillWeight > 0) {
          const k = createRng(inputs.targetRngSeed).fork("distill").int(chain.steps);
          const feedback = inputs.feedback;
          const shares = feedback
            ? attributes.map((a, index) =>
                feedback.assign(a.name, perAttribute[index].proportions, n, a.target),
              )
            : undefined;
          assigned = shares;
          // The assignment's targets are the steered shares where the feedback is on.
          const steered = shares
            ? attributes.map((a, index) => ({ ...a, target: shares[index] }))
            : attributes;
          const targets = sampledGroups(
            steered,
            heads,
            n,
            createRng(inputs.targetRngSeed).fork("distill-targets"),
          );
          const named = distillationPrompts({ classifier, prompts, attributes, targets });
          const guidance: GroupGuidance | undefined =
            settings.distillGuidance > 0
              ? {
                  classifier,
                  attributes,
                  targets,
                  scale: settings.distillGuidance,
                  schedule: chain.scheduler.schedule,
                }
              : undefined;
          // On the original's chain for the named prompts from the same noise: the tuned prompt
          // learns to follow it, noise by noise, rather than a blend of the groups' predictions.
          // The guidance acts at step k only: on a guided chain the targets are reached in its
          // first step or two (p(target) ≈ 1 after), leaving later steps nothing to teach.
          const teacherScale = settings.teacherGuidanceScale;
          const latents = originalLatents(inputs, named, noise, k, teacherScale);
          try {
            const term = await originalPredictionMatchGradients({
              adapters,
              prompts,
              originalPrompts: named,
              latents,
              t: chain.timesteps[k],
              guidanceScale: settings.sampler.guidanceScale,
              originalGuidanceScale: teacherScale,
              weight: settings.distillWeight,
              adjustOriginal:
                guidance &&
                ((original, prediction) =>
                  groupGuidedPrediction(
                    guidance,
                    original,
                    latents,
                    chain.timesteps[k],
                    prediction,
                  )),
            });
            distill = term.loss;
            addTerm(term.gradients);
          } finally {
            latents.dispose();
          }
        }
        // 7. Clip and apply (in the optimiser's order).
        const gradients = adapters.variables.map((v) => byVariable.get(v) as tf.Tensor);
        gradientNorm = await inputs.optimization.apply(
          gradients,
          inputs.learningRate,
          total + prior + distill,
        );
      } finally {
        tf.dispose([...byVariable.values()]);
      }
      return {
        losses: {
          total: total + prior + distill,
          fairness,
          semantic,
          preservation,
          // Only where the terms are on: the status lines list every loss.
          ...(settings.priorWeight > 0 ? { prior } : {}),
          ...(settings.distillWeight > 0 ? { distill } : {}),
        },
        gradientNorm,
        biasEstimate,
        detail: {
          attributes: batchTargetsDetail(perAttribute),
          semanticWeights: Array.from(weights),
          promptedReferences: promptedRows.length,
          // The shares the distillation assigned, per attribute, where feedback moved them.
          ...(assigned ? { assignedShares: assigned } : {}),
        },
      };
    } finally {
      disposeTrace(trace);
    }
  } finally {
    noise.dispose();
    disposeTextEmbedding(context);
    reference?.features?.dispose();
    projection?.dispose();
  }
}

interface OutputLossInputs {
  labels: Int32Array[];
  weights: Float32Array;
  reference: Awaited<ReturnType<typeof referenceImages>> | undefined;
  projection: tf.Tensor2D | undefined;
  held: AlignmentAttribute[];
}

/**
 * The loss at the chain's output z_0 (cross-entropy, semantic and hold terms), its parts, and its
 * gradient through the sampling chain (checkpointed) and the text encoder, one per trained
 * variable in `adapters.variables`' order (the caller frees them).
 */
async function outputLossGradients(
  inputs: StepInputs,
  trace: ReturnType<DdimSamplingChain["run"]>,
  context: ReturnType<typeof encodeGuidance>,
  denoiser: ReturnType<typeof guidedDenoiser>,
  terms: OutputLossInputs,
): Promise<{
  losses: { total: number; fairness: number; semantic: number; preservation: number };
  gradients: tf.Tensor[];
}> {
  const { adapters, classifier, chain, settings, attributes, prompts } = inputs;
  const { labels, weights, reference, projection, held } = terms;
  const model = adapters.model;
  // The parts are kept off the tape's tidy and read after it: WebGPU allows only async reads.
  let parts: tf.Tensor[] = [];
  const { value, grads } = tf.engine().gradients(
    () => {
      const loss = alignmentLoss(latentsToUnitImages(model, trace.output), {
        classifier,
        attributes,
        labels,
        fairnessWeight: settings.fairnessWeight,
        semanticWeights: weights,
        originalFeatures: reference?.features,
        features: settings.semanticFeatures,
        featureProjection: projection,
        held: reference && {
          attributes: held,
          labels: reference.held,
          weight: settings.holdWeight,
        },
      });
      parts = [tf.keep(loss.fairness), tf.keep(loss.semantic), tf.keep(loss.preservation)];
      return loss.total;
    },
    [trace.output],
    undefined,
    true,
  );
  const [total, fairness, semantic, preservation] = await Promise.all(
    [value, ...parts].map(async (t) => (await t.data())[0]),
  );
  tf.dispose([value, ...parts]);
  const latentGradient = (grads[0] ?? tf.zerosLike(trace.output)) as tf.Tensor4D;
  const subset =
    settings.gradientSteps < chain.steps
      ? createRng(inputs.targetRngSeed)
          .fork("gradient-steps")
          .shuffle(chain.timesteps.map((_, k) => k))
          .slice(0, settings.gradientSteps)
      : undefined;
  const chainGradients = chain.backward(
    denoiser,
    trace,
    context.embeddings,
    latentGradient,
    settings.gradient,
    { subset },
  );
  latentGradient.dispose();
  try {
    const text = adapters.textVariables;
    const textGradients =
      text.length > 0
        ? textConditioningGradients(model.textEncoder, prompts, text, chainGradients.conditioning)
        : [];
    const byVariable = new Map<tf.Variable, tf.Tensor>();
    text.forEach((v, i) => byVariable.set(v, textGradients[i]));
    adapters.unetVariables.forEach((v, i) =>
      byVariable.set(v, chainGradients.variables[i].clone()),
    );
    return {
      losses: { total, fairness, semantic, preservation },
      gradients: adapters.variables.map((v) => byVariable.get(v) as tf.Tensor),
    };
  } finally {
    disposeChainGradients(chainGradients);
  }
}
