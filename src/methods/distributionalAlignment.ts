/**
 * Method 1 (Shen et al., ICLR 2024): distributional alignment with adjusted direct fine-tuning.
 *
 * Every step: one prompt (round robin), N images from seeded noise with the current model,
 * classified; per attribute, optimal-transport targets toward the target distribution (read
 * through the getter every step, so a slider can move it mid-run); the loss (cross-entropy toward
 * confident targets + semantic preservation against the frozen original model's image from the
 * same noise) is back-propagated through the decoder and the whole DDIM sampling chain —
 * adjusted (network inputs detached, every step's ε on one scale) or exact — with checkpointing,
 * into LoRA adapters or soft prompt tokens; AdamW. Emits MethodEvent values.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shenBias } from "../fairness/representationMetrics";
import { guidanceBatch, nullPromptEmbedding } from "../models/classifierFreeGuidance";
import { disposeTextEmbedding, type TextEmbedding } from "../models/textEncoder";
import { AdamW } from "../parallel/adamW";
import { WeightAverage } from "../pipeline/ema";
import { learningRateAt } from "../pipeline/learningRateSchedule";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { initialLatents } from "../pipeline/textToImage";
import { createRng } from "../util/random";
import { checkClassifierReadsModelImages } from "./classifierImageSize";
import {
  attributeProbabilities,
  resolveAlignmentAttributes,
  type AlignmentAttribute,
} from "./alignmentAttributes";
import {
  alignmentLoss,
  latentsToUnitImages,
  semanticFeatures,
  type SemanticFeatures,
} from "./alignmentLoss";
import { alignmentRunSettings, restoreAlignmentState, saveAlignmentState } from "./alignmentState";
import { AlignmentTrainable, type AlignmentTrainableKind } from "./alignmentTrainable";
import { applyClippedGradients } from "./gradientStep";
import { guidedDenoiser } from "./guidedDenoiser";
import type { MethodEvent, TargetDistributions, TargetGetter } from "./methodEvents";
import { methodRunLoop, type MethodRunOptions, type MethodStepOutcome } from "./methodRunLoop";
import { alignmentTargets } from "./optimalTransportTargets";
import { EvaluationClock, checkEvaluationOptions, periodicEvaluation } from "./periodicEvaluation";
import {
  DdimSamplingChain,
  disposeChainGradients,
  disposeTrace,
  type ChainGradientMode,
} from "./samplingChainGradient";

export interface DistributionalAlignmentOptions extends MethodRunOptions {
  seed: number;
  /** Prompts to debias, one per step in turn (e.g. the neutral "… patient diagnosed with …"). */
  prompts: string[];
  /** attribute (or "a×b") → group → probability; read every step. */
  target: TargetGetter;
  /** Images per step, N (default 8). */
  batchSize?: number;
  /** AdamW peak learning rate (default 3e-3), weight decay (default 1e-2), global clip (default 1). */
  learningRate?: number;
  /**
   * "cosine" (default): warm-up, then cosine decay to a tenth of the peak — settles the batch
   * near the target instead of swinging around it. "constant" keeps reacting at full speed to a
   * target changed late in the run (a live slider).
   */
  schedule?: "cosine" | "constant";
  warmupSteps?: number;
  /**
   * Adam's momentum β₁ (default 0.9). Lower values stop the batch swinging past the target: near
   * balance the loss gradient vanishes, but momentum built up on the way keeps pushing.
   */
  beta1?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** What is trained (default "text-lora"); LoRA rank/alpha; soft prompt tokens. */
  trainable?: AlignmentTrainableKind;
  rank?: number;
  alpha?: number;
  softPromptTokens?: number;
  /** Confidence c_i below which an image gets no fairness loss (default 0.8). */
  threshold?: number;
  /** Weight of the semantic term (default 10); images whose target changes get this × changedTargetFactor (default 0.2). */
  semanticWeight?: number;
  changedTargetFactor?: number;
  semanticFeatures?: SemanticFeatures;
  /** DDIM steps of the fine-tuned sampler (default 10) and its guidance scale (default 3). */
  samplingSteps?: number;
  guidanceScale?: number;
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
  /** EMA of the trained parameters, used as the result (off by default). */
  emaDecay?: number;
  /** Merge LoRA into the base weights when done (default true): `model` is then the tuned model. */
  mergeAtEnd?: boolean;
}

export interface DistributionalAlignmentSummary {
  stepsDone: number;
  aborted: boolean;
  finalLoss: number;
  trainableParameters: number;
}

/** The options after defaults. */
export interface ResolvedAlignmentOptions {
  batchSize: number;
  learningRate: number;
  schedule: "cosine" | "constant";
  warmupSteps: number;
  beta1: number;
  weightDecay: number;
  clipNorm: number;
  trainable: AlignmentTrainableKind;
  threshold: number;
  semanticWeight: number;
  changedTargetFactor: number;
  semanticFeatures: SemanticFeatures;
  samplingSteps: number;
  guidanceScale: number;
  gradient: ChainGradientMode;
  gradientSteps: number;
  targetDraws: number;
}

function resolveOptions(options: DistributionalAlignmentOptions): ResolvedAlignmentOptions {
  const positiveInteger = (value: number, name: string) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive integer, got ${String(value)}`);
    }
  };
  positiveInteger(options.steps, "steps");
  if (!Number.isInteger(options.seed))
    throw new Error(`seed must be an integer, got ${options.seed}`);
  if (!Array.isArray(options.prompts) || options.prompts.length === 0) {
    throw new Error("distributional alignment needs at least one prompt");
  }
  if (typeof options.target !== "function") {
    throw new Error("target must be a getter function returning attribute → group → probability");
  }
  const resolved: ResolvedAlignmentOptions = {
    batchSize: options.batchSize ?? 8,
    learningRate: options.learningRate ?? 3e-3,
    schedule: options.schedule ?? "cosine",
    warmupSteps: options.warmupSteps ?? 0,
    beta1: options.beta1 ?? 0.9,
    weightDecay: options.weightDecay ?? 1e-2,
    clipNorm: options.clipNorm ?? 1,
    trainable: options.trainable ?? "text-lora",
    threshold: options.threshold ?? 0.8,
    semanticWeight: options.semanticWeight ?? 10,
    changedTargetFactor: options.changedTargetFactor ?? 0.2,
    semanticFeatures: options.semanticFeatures ?? "classifier",
    samplingSteps: options.samplingSteps ?? 10,
    guidanceScale: options.guidanceScale ?? 3,
    gradient: options.gradient ?? "adjusted",
    gradientSteps: options.gradientSteps ?? options.samplingSteps ?? 10,
    targetDraws: options.targetDraws ?? 64,
  };
  positiveInteger(resolved.batchSize, "batchSize");
  if (resolved.batchSize < 2) throw new Error(`batchSize must be ≥ 2, got ${resolved.batchSize}`);
  positiveInteger(resolved.samplingSteps, "samplingSteps");
  positiveInteger(resolved.targetDraws, "targetDraws");
  positiveInteger(resolved.gradientSteps, "gradientSteps");
  if (resolved.gradientSteps > resolved.samplingSteps) {
    throw new Error(
      `gradientSteps (${resolved.gradientSteps}) cannot exceed samplingSteps (${resolved.samplingSteps})`,
    );
  }
  if (!(resolved.learningRate > 0))
    throw new Error(`learningRate must be > 0, got ${resolved.learningRate}`);
  if (resolved.schedule !== "cosine" && resolved.schedule !== "constant") {
    throw new Error(`schedule must be "cosine" or "constant", got "${String(resolved.schedule)}"`);
  }
  if (!Number.isInteger(resolved.warmupSteps) || resolved.warmupSteps < 0) {
    throw new Error(`warmupSteps must be an integer ≥ 0, got ${resolved.warmupSteps}`);
  }
  if (!(resolved.beta1 >= 0 && resolved.beta1 < 1)) {
    throw new Error(`beta1 must be in [0, 1), got ${resolved.beta1}`);
  }
  if (!(resolved.weightDecay >= 0))
    throw new Error(`weightDecay must be ≥ 0, got ${resolved.weightDecay}`);
  if (!(resolved.clipNorm > 0)) throw new Error(`clipNorm must be > 0, got ${resolved.clipNorm}`);
  if (!(resolved.threshold >= 0 && resolved.threshold <= 1)) {
    throw new Error(`threshold must be in [0, 1], got ${resolved.threshold}`);
  }
  if (!(resolved.semanticWeight >= 0)) {
    throw new Error(`semanticWeight must be ≥ 0, got ${resolved.semanticWeight}`);
  }
  if (!(resolved.changedTargetFactor >= 0 && resolved.changedTargetFactor <= 1)) {
    throw new Error(`changedTargetFactor must be in [0, 1], got ${resolved.changedTargetFactor}`);
  }
  if (!Number.isFinite(resolved.guidanceScale)) {
    throw new Error(`guidanceScale must be finite, got ${resolved.guidanceScale}`);
  }
  if (resolved.gradient !== "adjusted" && resolved.gradient !== "exact") {
    throw new Error(`gradient must be "adjusted" or "exact", got "${String(resolved.gradient)}"`);
  }
  if (resolved.gradient === "exact" && resolved.gradientSteps < resolved.samplingSteps) {
    throw new Error("gradientSteps below samplingSteps needs the adjusted gradient");
  }
  if (options.emaDecay !== undefined && !(options.emaDecay >= 0 && options.emaDecay < 1)) {
    throw new Error(`emaDecay must be in [0, 1), got ${options.emaDecay}`);
  }
  if (options.checkpointEvery !== undefined)
    positiveInteger(options.checkpointEvery, "checkpointEvery");
  if (options.evaluation) checkEvaluationOptions(options.evaluation);
  return resolved;
}

/** [null prompts; prompts] embeddings of one prompt repeated n times. */
function guidanceContext(model: LatentDiffusionModel, prompt: string, n: number): TextEmbedding {
  const cond = model.textEncoder.encode(new Array<string>(n).fill(prompt));
  const uncond = nullPromptEmbedding(model.textEncoder, n);
  const context = guidanceBatch(cond, uncond);
  disposeTextEmbedding(cond);
  disposeTextEmbedding(uncond);
  return context;
}

function argmaxRows(probabilities: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let g = 1; g < k; g++)
      if (probabilities[i * k + g] > probabilities[i * k + best]) best = g;
    out[i] = best;
  }
  return out;
}

/** Probabilities per classifier head (calibrated) of images in [0, 1], off the tape. */
async function headProbabilities(
  classifier: SubgroupClassifier,
  images: tf.Tensor4D,
): Promise<Float32Array[]> {
  return (await classifier.predict(images)).map((h) => h.probabilities);
}

/** Seed of step s's starting noise: a fresh batch every step, the same on a resumed run. */
function stepNoiseSeed(seed: number, step: number): number {
  return createRng(seed).fork(`align-noise:${step}`).uint32();
}

export async function* distributionalAlignment(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: DistributionalAlignmentOptions,
): AsyncGenerator<MethodEvent, DistributionalAlignmentSummary> {
  const settings = resolveOptions(options);
  checkClassifierReadsModelImages(classifier, model);
  // Fail on a bad target before any work.
  resolveAlignmentAttributes(classifier, options.target());
  const n = settings.batchSize;
  // Before anything is attached to the model: what the run starts from.
  const runSettings = await alignmentRunSettings(model, classifier, options, settings);
  const chain = await DdimSamplingChain.create(settings.samplingSteps, model.config.noise);
  // The frozen original: same weights, never trained (the semantic term's reference).
  const original =
    settings.semanticWeight > 0
      ? LatentDiffusionModel.fromCheckpoint(await model.toCheckpoint())
      : undefined;
  const trainable = AlignmentTrainable.attach(
    model,
    {
      kind: settings.trainable,
      rank: options.rank,
      alpha: options.alpha,
      tokens: options.softPromptTokens,
    },
    createRng(options.seed).fork("trainable"),
  );
  const variables = trainable.variables;
  const optimizer = new AdamW({
    learningRate: settings.learningRate,
    weightDecay: settings.weightDecay,
    beta1: settings.beta1,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  const ema =
    options.emaDecay !== undefined
      ? new WeightAverage(
          await Promise.all(variables.map(async (v) => Float32Array.from(await v.data()))),
          options.emaDecay,
        )
      : undefined;
  const trainStep = async (step: number): Promise<MethodStepOutcome> => {
    const attributes = resolveAlignmentAttributes(classifier, options.target());
    const prompt = options.prompts[step % options.prompts.length];
    const learningRate =
      settings.schedule === "constant"
        ? settings.learningRate
        : learningRateAt(
            {
              peak: settings.learningRate,
              warmupSteps: settings.warmupSteps,
              totalSteps: options.steps,
            },
            step,
          );
    const outcome = await alignmentStep({
      model,
      original,
      classifier,
      trainable,
      optimizer,
      chain,
      settings,
      attributes,
      prompt,
      learningRate,
      noiseSeed: stepNoiseSeed(options.seed, step),
      targetRngSeed: createRng(options.seed).fork(`align-targets:${step}`).uint32(),
    });
    if (!Number.isFinite(outcome.losses.total)) {
      throw new Error(
        `distributional alignment diverged at step ${step + 1}: loss ${outcome.losses.total}`,
      );
    }
    if (ema)
      ema.update(await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array)));
    return {
      images: n,
      losses: outcome.losses,
      target: validatedTarget(attributes),
      detail: { prompt, gradientNorm: outcome.gradientNorm, ...outcome.detail },
      biasEstimate: outcome.biasEstimate,
      learningRate,
    };
  };
  const clock = new EvaluationClock();
  let failed = false;
  try {
    const summary = yield* methodRunLoop("align", options, {
      clock,
      step: trainStep,
      saveState: (file, stepsDone) =>
        saveAlignmentState(file, runSettings, stepsDone, options.steps, variables, optimizer, ema),
      restoreState: (file) => restoreAlignmentState(file, runSettings, variables, optimizer, ema),
      evaluate: (settings, stepsDone) =>
        periodicEvaluation(model, classifier, settings, {
          method: "align",
          step: stepsDone,
          target: options.target(),
          clock,
          signal: options.signal,
        }),
      evaluateAfterCheckpoint: true,
      finish: () => {
        ema?.values.forEach((values, i) =>
          tf.tidy(() => variables[i].assign(tf.tensor(values, variables[i].shape))),
        );
      },
    });
    return { ...summary, trainableParameters: trainable.parameterCount() };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Finished, aborted or stopped early, the model keeps what it learnt; after an error it is
    // left as it was given.
    if (failed) trainable.discard();
    else if (options.mergeAtEnd !== false) trainable.finish();
    optimizer.dispose();
    original?.dispose();
  }
}

function validatedTarget(attributes: AlignmentAttribute[]): TargetDistributions {
  return Object.fromEntries(
    attributes.map((a) => [a.name, Object.fromEntries(a.groups.map((g, i) => [g, a.target[i]]))]),
  );
}

interface StepInputs {
  model: LatentDiffusionModel;
  original: LatentDiffusionModel | undefined;
  classifier: SubgroupClassifier;
  trainable: AlignmentTrainable;
  optimizer: AdamW;
  chain: DdimSamplingChain;
  settings: ResolvedAlignmentOptions;
  attributes: AlignmentAttribute[];
  prompt: string;
  learningRate: number;
  noiseSeed: number;
  targetRngSeed: number;
}

interface StepOutcome {
  losses: { total: number; fairness: number; semantic: number };
  gradientNorm: number;
  biasEstimate: Record<string, number>;
  detail: Record<string, unknown>;
}

/** One fine-tuning step; frees every tensor it makes. */
async function alignmentStep(inputs: StepInputs): Promise<StepOutcome> {
  const { model, original, classifier, trainable, chain, settings, attributes, prompt } = inputs;
  const n = settings.batchSize;
  const noise = initialLatents(model, inputs.noiseSeed, 0, n);
  let originalFeatures: tf.Tensor2D | undefined;
  let originalLabels: Int32Array[] | undefined;
  const context = guidanceContext(model, prompt, n);
  const denoiser = guidedDenoiser(
    model.unet,
    context.mask,
    settings.guidanceScale,
    trainable.unetVariables,
  );
  try {
    // 1. The frozen original model's images from the same noise (semantic reference).
    if (original) {
      const originalContext = guidanceContext(original, prompt, n);
      const latents = chain.sample(
        guidedDenoiser(original.unet, originalContext.mask, settings.guidanceScale),
        noise,
        originalContext.embeddings,
      );
      disposeTextEmbedding(originalContext);
      const originalImages = latentsToUnitImages(original, latents);
      latents.dispose();
      originalFeatures = tf.tidy(() =>
        semanticFeatures(settings.semanticFeatures, classifier, originalImages),
      );
      const heads = await headProbabilities(classifier, originalImages);
      originalImages.dispose();
      originalLabels = attributes.map((a) =>
        argmaxRows(attributeProbabilities(a, heads, n), n, a.groups.length),
      );
    }
    // 2. The current model's images, kept step by step for the backward pass.
    const trace = chain.run(denoiser, noise, context.embeddings);
    try {
      const currentImages = latentsToUnitImages(model, trace.output);
      const heads = await headProbabilities(classifier, currentImages);
      currentImages.dispose();
      // 3. Optimal-transport targets per attribute.
      const targetRng = createRng(inputs.targetRngSeed);
      const biasEstimate: Record<string, number> = {};
      const perAttribute = attributes.map((a) => {
        const k = a.groups.length;
        const probabilities = attributeProbabilities(a, heads, n);
        const predicted = argmaxRows(probabilities, n, k);
        const counts = new Array<number>(k).fill(0);
        for (const g of predicted) counts[g]++;
        biasEstimate[a.name] = shenBias(
          counts.map((c) => c / n),
          a.target,
        );
        const targets = alignmentTargets(probabilities, k, a.target, {
          rng: targetRng.fork(a.name),
          draws: settings.targetDraws,
        });
        const labels = Int32Array.from(targets.labels, (label, i) =>
          targets.confidence[i] >= settings.threshold ? label : -1,
        );
        return {
          name: a.name,
          labels,
          confidence: targets.confidence,
          predicted,
          proportions: counts.map((c) => c / n),
        };
      });
      const labels = perAttribute.map((a) => a.labels);
      // 4. Semantic weights: lighter where the target asks the image to change.
      const semanticWeights = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const changes = labels.some(
          (l, a) => l[i] >= 0 && originalLabels !== undefined && l[i] !== originalLabels[a][i],
        );
        semanticWeights[i] = settings.semanticWeight * (changes ? settings.changedTargetFactor : 1);
      }
      // 5. Loss and its gradient at the chain's output z_0.
      // The parts are kept off the tape's tidy and read after it: WebGPU allows only async reads.
      let parts: tf.Tensor[] = [];
      const { value, grads } = tf.engine().gradients(
        () => {
          const terms = alignmentLoss(latentsToUnitImages(model, trace.output), {
            classifier,
            attributes,
            labels,
            semanticWeights,
            originalFeatures,
            features: settings.semanticFeatures,
          });
          parts = [tf.keep(terms.fairness), tf.keep(terms.semantic)];
          return terms.total;
        },
        [trace.output],
        undefined,
        true,
      );
      const [total, fairness, semantic] = await Promise.all(
        [value, ...parts].map(async (t) => (await t.data())[0]),
      );
      const lossValues = { total, fairness, semantic };
      tf.dispose([value, ...parts]);
      const latentGradient = (grads[0] ?? tf.zerosLike(trace.output)) as tf.Tensor4D;
      // 6. Through the sampling chain (checkpointed), then the text encoder.
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
      let gradients: tf.Tensor[];
      try {
        const textGradients =
          trainable.textVariables.length > 0
            ? textEncoderGradients(
                model,
                prompt,
                n,
                trainable.textVariables,
                chainGradients.conditioning,
              )
            : [];
        gradients = [...textGradients, ...chainGradients.variables.map((g) => g.clone())];
      } finally {
        disposeChainGradients(chainGradients);
      }
      // 7. Clip and apply.
      let gradientNorm: number;
      try {
        gradientNorm = await applyClippedGradients(
          trainable.variables,
          gradients,
          inputs.optimizer,
          {
            learningRate: inputs.learningRate,
            clipNorm: settings.clipNorm,
            loss: total,
          },
        );
      } finally {
        tf.dispose(gradients);
      }
      return {
        losses: lossValues,
        gradientNorm,
        biasEstimate,
        detail: {
          attributes: perAttribute.map((a) => ({
            attribute: a.name,
            targets: Array.from(a.labels),
            confidence: Array.from(a.confidence),
            predicted: Array.from(a.predicted),
            proportions: a.proportions,
          })),
          semanticWeights: Array.from(semanticWeights),
        },
      };
    } finally {
      disposeTrace(trace);
    }
  } finally {
    noise.dispose();
    disposeTextEmbedding(context);
    originalFeatures?.dispose();
  }
}

/** Gradients of ⟨dConditioning, [null; prompt] embeddings⟩ w.r.t. the text encoder's trained parameters. */
function textEncoderGradients(
  model: LatentDiffusionModel,
  prompt: string,
  n: number,
  variables: tf.Variable[],
  dConditioning: tf.Tensor,
): tf.Tensor[] {
  const { value, grads } = tf.engine().gradients(
    // The tape's forward pass is tidied: intermediate embeddings are freed afterwards.
    () =>
      guidanceBatch(
        model.textEncoder.encode(new Array<string>(n).fill(prompt)),
        nullPromptEmbedding(model.textEncoder, n),
      ).embeddings,
    variables,
    dConditioning as tf.Tensor3D,
    true,
  );
  value.dispose();
  return variables.map((v, i) => grads[i] ?? tf.zerosLike(v));
}
