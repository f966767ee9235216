/**
 * Method 2 — subgroup-distribution-aligned tuning (after Han et al., T2MedI): fine-tune the
 * generator so that the subgroup classifier's probabilities on its images, averaged over a
 * batch, match a target distribution (typically a target dataset's own proportions, see
 * `targetFromDataset`), while a knowledge-distillation term keeps it close to the frozen original.
 * Han et al. did not publish their exact loss forms; fairdiff uses these (METHODS.md):
 *
 * Per step, for a batch of B prompts drawn (seeded) from `prompts` and B fresh noises x_T:
 *  1. On-policy sampling without gradients: the *tuned* model's guided sampler (DDIM,
 *     `samplingSteps` steps, guidance s) runs from x_T to the end, giving the final latent x₀
 *     (a real sample, as an audit would see it), and keeps z_t at its j-th step,
 *     j ~ U{0, …, J−1}, J = ⌈samplingSteps · noisyFraction⌉ — the noisy steps, where a sampler
 *     decides sex or race.
 *  2. One differentiable step at (z_t, t): the tuned model's guided output
 *     ε̂_θ = ε_u + s·(ε_c − ε_u) (tuned text encoder for prompt and null prompt alike) and its
 *     clean-latent estimate x̂₀ = (z_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (or the v-/x₀-prediction equivalent).
 *  3. Straight-through to the sample: the classifier reads the decoded *final* sample, while the
 *     gradient passes to x̂₀ as if ∂x₀/∂x̂₀ = I: x̃ = x₀ + x̂₀ − stopgrad(x̂₀) (value x₀, gradient
 *     to x̂₀). Like Shen et al.'s adjusted DFT it drops the sampler's Jacobian; unlike a
 *     one-step x̂₀, whose blurry image a classifier misreads (tried first: the one-step batch
 *     looked 50/50 while the sampled images went 94 % one way), the classifier sees real samples.
 *     x̃ is decoded by the frozen autoencoder, mapped to [0, 1], clipped and classified by the
 *     frozen classifier: p_i,a = softmax(logits_a / T_a), T_a the head's calibration temperature.
 *  4. Distribution loss  L_dist = Σ_a KL(target_a ‖ p̄_a),  p̄_a = (1/B)·Σ_i p_i,a
 *     = Σ_a Σ_g t_a,g · (ln t_a,g − ln p̄_a,g), groups with t = 0 left out, ln p̄ computed as
 *     logsumexp_i ln p_i − ln B so that a confident classifier still passes a gradient.
 *  5. Consistency (knowledge distillation) L_kd = mean over batch and latent entries of
 *     (ε̂_θ − ε̂_orig)², ε̂_orig the frozen original model's guided output on the same z_t, t,
 *     prompts (LoRA switched off, or a frozen copy when the whole UNet is tuned).
 *  6. Optionally (`confidenceWeight` γ) a confidence term L_conf = Σ_a (1/B)·Σ_i H(p_i,a), the
 *     mean entropy of each image's probabilities. L_dist alone can be met by images the
 *     classifier finds ambiguous (0.4 Asian / 0.6 White adds 0.4 to the Asian mean but counts as
 *     White in an audit, which counts arg-max); L_conf asks each image to be one group clearly, so
 *     that matching the mean also matches the counts (the two terms together are the "information
 *     maximisation" objective). Off by default.
 *  7. L = L_dist + λ·L_kd + γ·L_conf, one AdamW step (linear warm-up then cosine), gradient clipped.
 *  8. Optionally (`emaDecay`) an exponential moving average of the tuned weights is kept and
 *     becomes the result: the batch-mean loss on 16 images pulls the proportions back and forth
 *     from step to step, and the average settles where the swings centre.
 *
 * Trained parameters: LoRA adapters (default rank 4) on the UNet's cross-attention and the text
 * encoder's attention, or the whole UNet (`trainable: "unet"`, use a small learning rate). At the
 * end LoRA is merged into the base weights, so the model saves and samples as before. The
 * target is read through a getter every step (a slider can move it mid-run); the run yields
 * typed events, stops on its AbortSignal, writes an atomic state file and resumes from it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute } from "../data/subgroups";
import { targetToVector } from "../data/targetDistribution";
import { shenBias } from "../fairness/representationMetrics";
import { addLoraAdapters, type LoraAdapters } from "../models/lora";
import { buildOptimizer } from "../parallel/optimizerSpec";
import {
  encodeGuidance,
  guidedNoisePrediction,
  sampleLatents,
  samplerTimesteps,
  type SamplerOptions,
} from "../pipeline/guidedSampler";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { WeightAverage } from "../pipeline/ema";
import { learningRateAt } from "../pipeline/learningRateSchedule";
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
  listSetting,
  modelFingerprint,
  promptsSetting,
  targetSetting,
} from "../pipeline/runSettings";
import type { SchedulerName } from "../schedulers/createScheduler";
import { NoiseSchedule } from "../schedulers/noiseSchedule";
import { createRng, type Rng } from "../util/random";
import { checkClassifierReadsModelImages } from "./classifierImageSize";
import { gradientStep, type GradientStepResult } from "./gradientStep";
import type { MethodEvent, TargetDistributions, TargetGetter } from "./methodEvents";
import {
  methodRunLoop,
  type MethodRunOptions,
  type MethodRunSummary,
  type MethodStepOutcome,
} from "./methodRunLoop";
import { EvaluationClock, checkEvaluationOptions, periodicEvaluation } from "./periodicEvaluation";

export type LoraTarget = "unet-cross" | "text";

export interface SubgroupAlignedTuningOptions extends MethodRunOptions {
  seed: number;
  /** Prompts whose images are aligned (e.g. the neutral "… patient diagnosed with …"). */
  prompts: string[];
  /** attribute → group → probability, read every step. Attributes must be classifier heads. */
  target: TargetGetter;
  /** Images per step (default 16). */
  batchSize?: number;
  /** Peak learning rate (default 5e-4 for LoRA — measured on cxr-mini —, 2e-5 for the whole UNet). */
  learningRate?: number;
  warmupSteps?: number;
  weightDecay?: number;
  /** Global gradient-norm clip (default 1). */
  clipNorm?: number;
  /** "lora" (default) or the whole UNet. */
  trainable?: "lora" | "unet";
  lora?: { rank?: number; alpha?: number; on?: LoraTarget[] };
  /** λ of the consistency term (default 1). */
  consistencyWeight?: number;
  /** γ of the per-image confidence (mean entropy) term (default 0: off). */
  confidenceWeight?: number;
  /** Guidance scale of the sampler the tuning follows (default 3, as the audits). */
  guidanceScale?: number;
  /** Steps of the on-policy sampler (default 10). */
  samplingSteps?: number;
  /** Share of the sampler's steps (the noisiest) where the loss is applied (default 0.6). */
  noisyFraction?: number;
  scheduler?: SchedulerName;
  /**
   * Decay of an exponential moving average of the tuned weights, updated after every step; the
   * run ends with the averaged weights (off by default). 0.95 averages over the last ~20 steps.
   */
  emaDecay?: number;
  /**
   * State file (adapters or UNet, optimizer, step): written every `checkpointEvery` steps and at
   * the end; resumed from by a run with the same settings and the same base model (checked: the
   * file records the model's fingerprint), refused otherwise.
   */
  stateFile?: string;
}

const STATE_KIND = "subgroup-tuning-state";

interface HeadTarget {
  attribute: string;
  head: number;
  groups: string[];
  target: number[];
}

/** Validates a target against the classifier's attribute heads; errors name the bad value. */
export function resolveHeadTargets(
  classifier: SubgroupClassifier,
  target: TargetDistributions,
): HeadTarget[] {
  const entries = Object.entries(target ?? {});
  if (entries.length === 0) throw new Error("the target names no attribute");
  return entries.map(([attribute, distribution]) => {
    const head = classifier.tasks.findIndex((t) => t.name === attribute && t.kind === "attribute");
    if (head < 0) {
      const heads = classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
      throw new Error(
        `target names attribute "${attribute}", which the classifier has no head for (attribute heads: ${heads.join(", ")})`,
      );
    }
    const groups = classifier.tasks[head].classes;
    return {
      attribute,
      head,
      groups,
      target: targetToVector(defineAttribute(attribute, groups), distribution),
    };
  });
}

function asDistributions(heads: HeadTarget[]): TargetDistributions {
  return Object.fromEntries(
    heads.map((h) => [h.attribute, Object.fromEntries(h.groups.map((g, i) => [g, h.target[i]]))]),
  );
}

function checkOptions(options: SubgroupAlignedTuningOptions): void {
  if (!Number.isInteger(options.steps) || options.steps < 0) {
    throw new Error(`steps must be a non-negative integer, got ${options.steps}`);
  }
  if (options.prompts.length === 0) throw new Error("subgroup tuning needs at least one prompt");
  const batch = options.batchSize ?? 16;
  if (!Number.isInteger(batch) || batch < 2) {
    throw new Error(`batchSize must be an integer ≥ 2 (the loss is on a batch mean), got ${batch}`);
  }
  const fraction = options.noisyFraction ?? 0.6;
  if (!(fraction > 0 && fraction <= 1)) {
    throw new Error(`noisyFraction must be in (0, 1], got ${fraction}`);
  }
  const lambda = options.consistencyWeight ?? 1;
  if (!(lambda >= 0)) throw new Error(`consistencyWeight must be ≥ 0, got ${lambda}`);
  const gamma = options.confidenceWeight ?? 0;
  if (!(gamma >= 0)) throw new Error(`confidenceWeight must be ≥ 0, got ${gamma}`);
  const decay = options.emaDecay;
  if (decay !== undefined && !(decay >= 0 && decay < 1)) {
    throw new Error(`emaDecay must be in [0, 1), got ${decay}`);
  }
  if (options.evaluation) checkEvaluationOptions(options.evaluation);
}

/** LoRA adapters on several modules, handled as one set (names prefixed by module). */
class AdapterSet {
  constructor(private readonly groups: [prefix: string, adapters: LoraAdapters][]) {}

  parameters(): tf.Variable[] {
    return this.groups.flatMap(([, g]) => g.parameters());
  }

  setEnabled(enabled: boolean): void {
    for (const [, g] of this.groups) g.setEnabled(enabled);
  }

  /** Folds every update into its base weight and detaches the adapters. */
  mergeAndRemove(): void {
    for (const [, g] of this.groups) {
      g.merge();
      g.remove();
    }
  }
}

/** The tuned parameters and access to the frozen original's networks. */
interface Tunable {
  variables: tf.Variable[];
  /** Runs `f` on the original (untuned) model: LoRA switched off, or the frozen copy. */
  original<T>(f: (m: LatentDiffusionModel) => T): T;
  /** Ends the run: LoRA merged into the model, the frozen copy freed. */
  finish(): void;
}

async function makeTunable(
  model: LatentDiffusionModel,
  options: SubgroupAlignedTuningOptions,
): Promise<Tunable> {
  if ((options.trainable ?? "lora") === "unet") {
    const frozen = LatentDiffusionModel.fromCheckpoint(await model.toCheckpoint());
    const variables = model.unet.parameters();
    return {
      variables,
      original: (f) => f(frozen),
      finish: () => frozen.dispose(),
    };
  }
  const rank = options.lora?.rank ?? 4;
  const alpha = options.lora?.alpha;
  const on = options.lora?.on ?? ["unet-cross", "text"];
  if (on.length === 0) throw new Error("lora.on names no module to adapt");
  const rng = createRng(options.seed).fork("lora-init");
  const groups: [string, LoraAdapters][] = on.map((part) => {
    if (part === "unet-cross") {
      return [
        "unet",
        addLoraAdapters(model.unet, { rank, alpha, attention: ["cross"] }, rng.fork("unet")),
      ];
    }
    if (part === "text") {
      return [
        "text",
        addLoraAdapters(model.textEncoder, { rank, alpha, attention: ["self"] }, rng.fork("text")),
      ];
    }
    throw new Error(`unknown LoRA target "${String(part)}" (expected "unet-cross" or "text")`);
  });
  const set = new AdapterSet(groups);
  return {
    variables: set.parameters(),
    original: (f) => {
      set.setEnabled(false);
      try {
        return f(model);
      } finally {
        set.setEnabled(true);
      }
    },
    finish: () => set.mergeAndRemove(),
  };
}

/** The guided noise prediction on the tape (the LoRA'd text encoder and UNet both learn). */
function guidedOutput(
  model: LatentDiffusionModel,
  prompts: string[],
  z: tf.Tensor4D,
  t: number,
  scale: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const context = encodeGuidance(model.textEncoder, prompts);
    return guidedNoisePrediction(model.unet, z, t, context, scale);
  });
}

/**
 * The whole guided sampler from `noise` without gradients: returns the final latent and the
 * latent it held before step `keep` (z at the sampler's `keep`-th timestep).
 */
function sampleKeeping(
  model: LatentDiffusionModel,
  prompts: string[],
  noise: tf.Tensor4D,
  sampler: SamplerOptions & { stepNoise: readonly Rng[] },
  keep: number,
): { kept: tf.Tensor4D; final: tf.Tensor4D } {
  let kept: tf.Tensor4D | undefined;
  try {
    const final = sampleLatents(model, prompts, noise, {
      ...sampler,
      onStep: (k, _t, sample) => {
        if (k === keep) kept = sample.clone();
      },
    });
    return { kept: kept as tf.Tensor4D, final };
  } catch (error) {
    kept?.dispose();
    throw error;
  }
}

/** Identity forward, zero gradient: stopgrad(x). */
const stopGradient = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
  value: (x as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/**
 * KL(t ‖ p̄) = Σ_g t_g (ln t_g − ln p̄_g), groups with t_g = 0 contributing 0, from the batch's
 * log-probabilities: ln p̄_g = logsumexp_i ln p_i,g − ln B. Computing p̄ in log space matters: a
 * confident classifier gives p = 1e-30 for the missing group, and through softmax-then-mean
 * the gradient would vanish (p(1 − p) ≈ 0); through log-softmax it does not.
 */
function klFromTarget(target: number[], logProbabilities: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const batch = logProbabilities.shape[0];
    const logMean = tf.sub(tf.logSumExp(logProbabilities, 0), Math.log(batch));
    const t = tf.tensor1d(target);
    const logT = tf.tensor1d(target.map((v) => (v > 0 ? Math.log(v) : 0)));
    return tf.sum(tf.mul(t, tf.sub(logT, logMean))) as tf.Scalar;
  });
}

/** (1/B)·Σ_i H(p_i) = −(1/B)·Σ_i Σ_g p_i,g ln p_i,g, from log-probabilities [B × groups]. */
function meanEntropy(logProbabilities: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () =>
      tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logProbabilities), logProbabilities), 1))) as tf.Scalar,
  );
}

export type SubgroupTuningSummary = MethodRunSummary;

interface StepNumbers {
  distribution: number;
  consistency: number;
  confidence: number;
  proportions: number[][];
}

export async function* subgroupAlignedTuning(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: SubgroupAlignedTuningOptions,
): AsyncGenerator<MethodEvent, SubgroupTuningSummary> {
  checkOptions(options);
  checkClassifierReadsModelImages(classifier, model);
  resolveHeadTargets(classifier, options.target());
  const trainable = options.trainable ?? "lora";
  const batchSize = options.batchSize ?? 16;
  const peak = options.learningRate ?? (trainable === "lora" ? 5e-4 : 2e-5);
  const lambda = options.consistencyWeight ?? 1;
  const gamma = options.confidenceWeight ?? 0;
  const scale = options.guidanceScale ?? 3;
  const samplingSteps = options.samplingSteps ?? 10;
  const noisySteps = Math.max(1, Math.ceil(samplingSteps * (options.noisyFraction ?? 0.6)));
  const schedule = new NoiseSchedule(model.config.noise);
  const { sampleSize, inChannels } = model.config.unet;
  const per = sampleSize * sampleSize * inChannels;
  const lrSchedule = {
    peak,
    warmupSteps: options.warmupSteps ?? Math.min(20, Math.ceil(options.steps / 10)),
    totalSteps: options.steps,
  };
  // Before the adapters are attached: what the run starts from.
  const settings = await subgroupRunSettings(model, classifier, options, {
    trainable,
    batchSize,
    peak,
    warmupSteps: lrSchedule.warmupSteps,
    consistencyWeight: lambda,
    confidenceWeight: gamma,
    guidanceScale: scale,
    samplingSteps,
  });

  const tunable = await makeTunable(model, options);
  const optimizer = buildOptimizer({
    name: "adamw",
    learningRate: peak,
    weightDecay: options.weightDecay ?? 0,
  });
  const currentTarget = () => asDistributions(resolveHeadTargets(classifier, options.target()));
  const average =
    options.emaDecay === undefined
      ? undefined
      : new WeightAverage(await variableValues(tunable.variables), options.emaDecay);

  const trainStep = async (step: number): Promise<MethodStepOutcome> => {
    const heads = resolveHeadTargets(classifier, options.target());
    const rng = createRng(options.seed).fork(`subgroup-step:${step}`);
    const prompts = Array.from(
      { length: batchSize },
      () => options.prompts[rng.int(options.prompts.length)],
    );
    const stop = rng.int(noisySteps);
    const noiseValues = new Float32Array(batchSize * per);
    for (let i = 0; i < noiseValues.length; i++) noiseValues[i] = rng.normal();
    const sampler = {
      steps: samplingSteps,
      guidanceScale: scale,
      scheduler: options.scheduler ?? "ddim",
      stepNoise: Array.from({ length: batchSize }, (_, i) => rng.fork(`step-noise:${i}`)),
    } as const;
    const t = samplerTimesteps(model, sampler)[stop];
    const alphaBar = schedule.alphaBar(t);
    const noise = tf.tensor4d(noiseValues, [batchSize, sampleSize, sampleSize, inChannels]);
    let sampled: { kept: tf.Tensor4D; final: tf.Tensor4D } | undefined;
    let reference: tf.Tensor4D | undefined;
    const learningRate = learningRateAt(lrSchedule, step);
    let outcome: GradientStepResult<StepNumbers>;
    try {
      sampled = sampleKeeping(model, prompts, noise, sampler, stop);
      const zt = sampled.kept;
      const x0 = sampled.final;
      reference = tunable.original((m) => guidedOutput(m, prompts, zt, t, scale));
      const ref = reference;
      outcome = await gradientStep(
        tunable.variables,
        optimizer,
        () => {
          const output = guidedOutput(model, prompts, zt, t, scale);
          const estimate = schedule.denoise(output, zt, alphaBar).original as tf.Tensor4D;
          const throughSample = tf.add(x0, tf.sub(estimate, stopGradient(estimate))) as tf.Tensor4D;
          const decoded = model.autoencoder.latentsToImages(throughSample);
          const unit = tf.clipByValue(tf.div(tf.add(decoded, 1), 2), 0, 1) as tf.Tensor4D;
          const logits = classifier.network.logits(unit);
          const logProbabilities = heads.map(
            (h) =>
              tf.logSoftmax(tf.div(logits[h.head], classifier.temperatures[h.head])) as tf.Tensor2D,
          );
          const means = logProbabilities.map((lp) => tf.mean(tf.exp(lp), 0) as tf.Tensor1D);
          const distribution = tf.addN(
            logProbabilities.map((lp, i) => klFromTarget(heads[i].target, lp)),
          ) as tf.Scalar;
          const consistency = tf.mean(tf.square(tf.sub(output, ref))) as tf.Scalar;
          const confidence = tf.addN(logProbabilities.map(meanEntropy)) as tf.Scalar;
          const total = tf.addN([
            distribution,
            tf.mul(consistency, lambda),
            tf.mul(confidence, gamma),
          ]) as tf.Scalar;
          return { total, side: [distribution, consistency, confidence, ...means] };
        },
        async ([distribution, consistency, confidence, ...means]): Promise<StepNumbers> => ({
          distribution: (await distribution.data())[0],
          consistency: (await consistency.data())[0],
          confidence: (await confidence.data())[0],
          proportions: await Promise.all(means.map(async (m) => Array.from(await m.data()))),
        }),
        { learningRate, clipNorm: options.clipNorm ?? 1 },
      );
    } finally {
      tf.dispose([
        noise,
        ...(sampled ? [sampled.kept, sampled.final] : []),
        ...(reference ? [reference] : []),
      ]);
    }
    average?.update(await variableValues(tunable.variables));
    return {
      images: batchSize,
      losses: {
        total: outcome.loss,
        distribution: outcome.extras.distribution,
        consistency: outcome.extras.consistency,
        confidence: outcome.extras.confidence,
      },
      target: asDistributions(heads),
      detail: {
        batchProportions: Object.fromEntries(
          heads.map((h, i) => [
            h.attribute,
            Object.fromEntries(h.groups.map((g, k) => [g, outcome.extras.proportions[i][k]])),
          ]),
        ),
        timestep: t,
        samplerStep: stop,
        gradientNorm: outcome.gradientNorm,
      },
      biasEstimate: Object.fromEntries(
        heads.map((h, i) => [
          h.attribute,
          shenBias(normalized(outcome.extras.proportions[i]), h.target),
        ]),
      ),
      learningRate,
    };
  };

  const clock = new EvaluationClock();
  try {
    return yield* methodRunLoop("subgroup", options, {
      clock,
      step: trainStep,
      saveState: async (file, stepsDone) =>
        saveRunState(file, STATE_KIND, settings, variableShapes(tunable.variables), {
          step: stepsDone,
          complete: stepsDone >= options.steps,
          ...(await variablesState(tunable.variables, optimizer, average)),
        }),
      restoreState: (file) => {
        const state = loadRunState(file, STATE_KIND, settings, variableShapes(tunable.variables));
        restoreVariables(file, state, tunable.variables, optimizer, average);
        return state.step;
      },
      // After the final state (live weights, for resuming) is saved: the average is the result.
      finish: () => {
        average?.assignTo(tunable.variables);
      },
      // Within the run, against the target the step just used.
      evaluate: (settings, stepsDone, stepTarget) =>
        periodicEvaluation(model, classifier, settings, {
          method: "subgroup",
          step: stepsDone,
          target: stepTarget ?? currentTarget(),
          clock,
          signal: options.signal,
        }),
      beforeDone: (stepsDone) => {
        model.info = {
          ...model.info,
          subgroupTuning: {
            steps: stepsDone,
            seed: options.seed,
            prompts: options.prompts,
            target: currentTarget(),
            trainable,
            lora:
              trainable === "lora"
                ? { rank: options.lora?.rank ?? 4, on: options.lora?.on ?? ["unet-cross", "text"] }
                : undefined,
            consistencyWeight: lambda,
            confidenceWeight: gamma,
            learningRate: peak,
            batchSize,
            emaDecay: options.emaDecay,
          },
        };
      },
    });
  } finally {
    tunable.finish();
    optimizer.dispose();
  }
}

/** Batch-mean probabilities sum to 1 up to float error; the bias metric wants an exact vector. */
function normalized(values: number[]): number[] {
  const sum = values.reduce((s, v) => s + v, 0);
  return values.map((v) => v / sum);
}

/**
 * What a subgroup-tuning run's result depends on: the model and classifier it starts from (call
 * before the adapters are attached), the prompts, the target as the run starts (a target moved
 * mid-run is not tracked), and every training setting, defaults resolved. Left out: checkpointing
 * and evaluation, which do not change the tuned weights.
 */
async function subgroupRunSettings(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: SubgroupAlignedTuningOptions,
  resolved: {
    trainable: "lora" | "unet";
    batchSize: number;
    peak: number;
    warmupSteps: number;
    consistencyWeight: number;
    confidenceWeight: number;
    guidanceScale: number;
    samplingSteps: number;
  },
): Promise<RunSettings> {
  const lora = resolved.trainable === "lora";
  const rank = options.lora?.rank ?? 4;
  return {
    model: await modelFingerprint(model),
    classifier: await classifierFingerprint(classifier),
    prompts: promptsSetting(options.prompts),
    target: targetSetting(options.target()),
    steps: options.steps,
    seed: options.seed,
    "batch size": resolved.batchSize,
    "learning rate": resolved.peak,
    "warm-up steps": resolved.warmupSteps,
    "weight decay": options.weightDecay ?? 0,
    "clip norm": options.clipNorm ?? 1,
    trainable: resolved.trainable,
    "LoRA rank": lora ? rank : null,
    "LoRA alpha": lora ? (options.lora?.alpha ?? rank) : null,
    "LoRA on": lora ? listSetting(options.lora?.on ?? ["unet-cross", "text"]) : null,
    "consistency weight": resolved.consistencyWeight,
    "confidence weight": resolved.confidenceWeight,
    guidance: resolved.guidanceScale,
    "sampling steps": resolved.samplingSteps,
    "noisy fraction": options.noisyFraction ?? 0.6,
    scheduler: options.scheduler ?? "ddim",
    "EMA decay": options.emaDecay ?? null,
  };
}

async function variableValues(variables: tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
}
