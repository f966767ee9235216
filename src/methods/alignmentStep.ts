/**
 * One step of Method 1 (distributionalAlignment.ts): the current model's images from seeded
 * noise, classified; optimal-transport targets per attribute; the loss at the chain's output and
 * its gradient through the chain (alignmentOutputLoss.ts) when a term needs it; the prior and
 * distillation terms at one chain step each; the update. Frees every tensor it makes.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { disposeTextEmbedding } from "../models/textEncoder";
import { encodeGuidance } from "../pipeline/guidedSampler";
import { initialLatents } from "../pipeline/textToImage";
import { createRng } from "../util/random";
import type { TrainedAdapters } from "./adapters";
import { untargetedAttributes, type AlignmentAttribute } from "./alignmentAttributes";
import {
  batchTargets,
  batchTargetsDetail,
  headProbabilities,
  sampledGroups,
  semanticWeights,
  type AttributeBatchTargets,
} from "./alignmentBatchTargets";
import type { AlignmentSettings } from "./alignmentOptions";
import { latentsToUnitImages } from "./alignmentLoss";
import { outputLossGradients } from "./alignmentOutputLoss";
import type { AssignmentFeedback } from "./assignmentFeedback";
import { attributeBlindProjection } from "./attributeBlindFeatures";
import { groupGuidedPrediction, type GroupGuidance } from "./groupGuidance";
import { guidedDenoiser } from "./guidedDenoiser";
import type { MethodOptimization } from "./methodOptimization";
import {
  originalLatents,
  referenceImages,
  withPromptedRows,
  type ReferenceImages,
} from "./originalReferences";
import { originalPredictionMatchGradients } from "./originalPredictionMatch";
import { distillationPrompts, distilledAttributes } from "./promptedDistillation";
import { promptedReferencePrompts } from "./promptedReferences";
import { priorPrompts } from "./priorPreservation";
import { disposeTrace, type ChainTrace, type DdimSamplingChain } from "./samplingChainGradient";

export interface AlignmentStepInputs {
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

export interface AlignmentStepOutcome {
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

/** One fine-tuning step; frees every tensor it makes. */
export async function alignmentStep(inputs: AlignmentStepInputs): Promise<AlignmentStepOutcome> {
  const { adapters, classifier, chain, settings, attributes, prompts } = inputs;
  const model = adapters.model;
  const n = prompts.length;
  const noise = initialLatents(model, inputs.noiseSeed, 0, n);
  let reference: ReferenceImages | undefined;
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
        // 6b–6c. The prior and distillation terms, each at one chain step.
        if (settings.priorWeight > 0) {
          const term = await priorTerm(inputs, noise, trace);
          prior = term.loss;
          addTerm(term.gradients);
        }
        if (settings.distillWeight > 0) {
          const term = await distillationTerm(inputs, noise, heads, perAttribute);
          distill = term.loss;
          assigned = term.assigned;
          addTerm(term.gradients);
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

/** A term's loss and its gradients, one per trained variable (the caller frees them). */
interface TermGradients {
  loss: number;
  gradients: tf.Tensor[];
}

/**
 * 6b. Prior preservation: at one chain step, on its latents (priorPreservation.ts) — the tuned
 * chain's, or with the "original" prior chain each held prompt's own chain (the original model's,
 * from the image's noise), where its images are drawn, not only on the tuned prompt's.
 */
async function priorTerm(
  inputs: AlignmentStepInputs,
  noise: tf.Tensor4D,
  trace: ChainTrace,
): Promise<TermGradients> {
  const { adapters, chain, settings, prompts } = inputs;
  const rng = createRng(inputs.targetRngSeed).fork("prior");
  const k = rng.int(chain.steps);
  const held = priorPrompts(prompts[0], prompts.length, rng, settings.priorCaptions);
  const ownChain = settings.priorChain === "original";
  const latents = ownChain ? originalLatents(inputs, held, noise, k) : trace.inputs[k];
  try {
    return await originalPredictionMatchGradients({
      adapters,
      prompts: held,
      latents,
      t: chain.timesteps[k],
      guidanceScale: settings.sampler.guidanceScale,
      weight: settings.priorWeight,
    });
  } finally {
    if (ownChain) latents.dispose();
  }
}

/**
 * 6c. Prompted distillation: the step's prompt learns, at one chain step, the original's
 * predictions for the prompt naming each image's target (promptedDistillation.ts), on the
 * original's chain for the named prompts from the same noise — noise by noise, rather than a
 * blend of the groups' predictions. With the feedback on, the targets are assigned by the steered
 * shares (returned as `assigned`). The group guidance acts at step k only: on a guided chain the
 * targets are reached in its first step or two (p(target) ≈ 1 after), leaving later steps
 * nothing to teach.
 */
async function distillationTerm(
  inputs: AlignmentStepInputs,
  noise: tf.Tensor4D,
  heads: Float32Array[],
  perAttribute: AttributeBatchTargets[],
): Promise<TermGradients & { assigned?: number[][] }> {
  const { adapters, classifier, chain, settings, attributes, prompts, feedback } = inputs;
  const n = prompts.length;
  const k = createRng(inputs.targetRngSeed).fork("distill").int(chain.steps);
  const assigned = feedback
    ? attributes.map((a, index) =>
        feedback.assign(a.name, perAttribute[index].proportions, n, a.target),
      )
    : undefined;
  const steered = assigned
    ? attributes.map((a, index) => ({ ...a, target: assigned[index] }))
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
          groupGuidedPrediction(guidance, original, latents, chain.timesteps[k], prediction)),
    });
    return { ...term, assigned };
  } finally {
    latents.dispose();
  }
}
