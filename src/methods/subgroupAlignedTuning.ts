/**
 * Method 2 — subgroup-distribution-aligned tuning (after Han et al., T2MedI): fine-tune the
 * generator so that the subgroup classifier's probabilities on its images, averaged over a
 * batch, match a target distribution (typically a target dataset's own proportions, see
 * `targetFromDataset`), while a knowledge-distillation term keeps it close to the frozen original.
 * Han et al. did not publish their exact loss forms; fairdiff uses these (METHODS.md):
 *
 * Per step, for a batch of B prompts drawn (seeded) from `prompts` and B fresh noises x_T:
 *  1. On-policy sampling without gradients: the *tuned* model's guided sampler (`sampler`: DDIM,
 *     10 steps, guidance s = 3 by default) runs from x_T to the end, giving the final latent x₀
 *     (a real sample, as an audit would see it), and keeps z_t at its j-th step,
 *     j ~ U{0, …, J−1}, J = ⌈sampler.steps · noisyFraction⌉ — the noisy steps, where a sampler
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
 *     frozen classifier: p_i,h = softmax(logits_h / T_h), T_h head h's calibration temperature.
 *     Each attribute or intersection a the target names (`resolveAlignmentAttributes`, as
 *     Method 1 reads it) gets per-image probabilities p_i,a over its groups: a single attribute's
 *     are its head's; an intersection's ("sex×race", groups "Female×Asian" …) are the products of
 *     its heads' calibrated probabilities (the heads read as independent, as the audit and
 *     Method 1 do), summed in log space (`attributeLogProbabilities`).
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
 * Trained parameters (adapters.ts): LoRA (default rank 4) on the UNet's cross-attention and the
 * text encoder's attention (default), or the whole UNet (`trainable: "unet"`, use a small
 * learning rate). At the end LoRA is merged into the base weights, so the model saves and samples
 * as before. The target is read every step (a slider can move it mid-run); the run yields typed
 * events, stops on its AbortSignal, writes an atomic state file and resumes from it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shenBias } from "../fairness/representationMetrics";
import {
  encodeGuidance,
  guidedNoisePrediction,
  sampleLatents,
  samplerTimesteps,
  type SamplerOptions,
} from "../pipeline/guidedSampler";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { RunSettings } from "../pipeline/runState";
import {
  classifierFingerprint,
  modelFingerprint,
  promptsSetting,
  targetSetting,
} from "../pipeline/runSettings";
import { NoiseSchedule } from "../schedulers/noiseSchedule";
import { createRng, type Rng } from "../util/random";
import { TrainedAdapters } from "./adapters";
import { attributeLogProbabilities, resolveAlignmentAttributes } from "./alignmentAttributes";
import { calibratedLogProbabilities, latentsToUnitImages } from "./alignmentLoss";
import { checkClassifierReadsModelImages } from "./classifierImageSize";
import type { MethodEvent, TargetGetter } from "./methodEvents";
import type { MethodOptimization } from "./methodOptimization";
import type { MethodRunSummary, MethodStepOutcome } from "./methodRunLoop";
import { distributionsOf } from "./methodTarget";
import { trainMethod } from "./methodTraining";
import {
  resolveSubgroupOptions,
  subgroupRunSettings,
  type SubgroupAlignedTuningOptions,
} from "./subgroupOptions";

export type { SubgroupAlignedTuningOptions } from "./subgroupOptions";

export type SubgroupTuningSummary = MethodRunSummary;

const STATE_KIND = "subgroup-tuning-state";

/** The guided noise prediction on the tape (the tuned text encoder and UNet both learn). */
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
  const subgroup = resolveSubgroupOptions(options);
  const { resolved, sampler } = subgroup;
  const lambda = subgroup.consistencyWeight;
  const gamma = subgroup.confidenceWeight;
  checkClassifierReadsModelImages(classifier, model);
  const getTarget = resolved.target as TargetGetter;
  resolveAlignmentAttributes(classifier, getTarget());
  const batchSize = resolved.batchSize;
  const noisySteps = Math.max(1, Math.ceil(sampler.steps * subgroup.noisyFraction));
  const schedule = new NoiseSchedule(model.config.noise);
  const { sampleSize, inChannels } = model.config.unet;
  const per = sampleSize * sampleSize * inChannels;
  // Before the adapters are attached: what the run starts from (the target as the run starts).
  const settings: RunSettings = {
    model: await modelFingerprint(model),
    classifier: await classifierFingerprint(classifier),
    prompts: promptsSetting(options.prompts),
    target: targetSetting(getTarget()),
    ...subgroupRunSettings(subgroup),
  };
  const adapters = await TrainedAdapters.attach(
    model,
    resolved.adapters,
    createRng(resolved.seed).fork("lora-init"),
    // The consistency term compares with the original model; the LoRA streams keep their names.
    { keepOriginal: true, streams: { "unet-lora": "unet", "text-lora": "text" } },
  );
  const currentTarget = () => distributionsOf(resolveAlignmentAttributes(classifier, getTarget()));

  const trainStep = async (
    step: number,
    optimization: MethodOptimization,
  ): Promise<MethodStepOutcome> => {
    const attributes = resolveAlignmentAttributes(classifier, getTarget());
    const rng = createRng(resolved.seed).fork(`subgroup-step:${step}`);
    const prompts = Array.from(
      { length: batchSize },
      () => options.prompts[rng.int(options.prompts.length)],
    );
    const stop = rng.int(noisySteps);
    const noiseValues = new Float32Array(batchSize * per);
    for (let i = 0; i < noiseValues.length; i++) noiseValues[i] = rng.normal();
    const stepSampler = {
      ...sampler,
      stepNoise: Array.from({ length: batchSize }, (_, i) => rng.fork(`step-noise:${i}`)),
    };
    const scale = sampler.guidanceScale;
    const t = samplerTimesteps(model, stepSampler)[stop];
    const alphaBar = schedule.alphaBar(t);
    const noise = tf.tensor4d(noiseValues, [batchSize, sampleSize, sampleSize, inChannels]);
    let sampled: { kept: tf.Tensor4D; final: tf.Tensor4D } | undefined;
    let reference: tf.Tensor4D | undefined;
    const learningRate = optimization.learningRateAt(step);
    let outcome;
    try {
      sampled = sampleKeeping(model, prompts, noise, stepSampler, stop);
      const zt = sampled.kept;
      const x0 = sampled.final;
      reference = adapters.original((m) => guidedOutput(m, prompts, zt, t, scale));
      const ref = reference;
      outcome = await optimization.step(
        learningRate,
        () => {
          const output = guidedOutput(model, prompts, zt, t, scale);
          const estimate = schedule.denoise(output, zt, alphaBar).original as tf.Tensor4D;
          const throughSample = tf.add(x0, tf.sub(estimate, stopGradient(estimate))) as tf.Tensor4D;
          const byHead = calibratedLogProbabilities(
            classifier,
            latentsToUnitImages(model, throughSample),
          );
          const logProbabilities = attributes.map((a) => attributeLogProbabilities(a, byHead));
          const means = logProbabilities.map((lp) => tf.mean(tf.exp(lp), 0) as tf.Tensor1D);
          const distribution = tf.addN(
            logProbabilities.map((lp, i) => klFromTarget(attributes[i].target, lp)),
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
      );
    } finally {
      tf.dispose([
        noise,
        ...(sampled ? [sampled.kept, sampled.final] : []),
        ...(reference ? [reference] : []),
      ]);
    }
    const { proportions } = outcome.extras;
    return {
      images: batchSize,
      losses: {
        total: outcome.loss,
        distribution: outcome.extras.distribution,
        consistency: outcome.extras.consistency,
        confidence: outcome.extras.confidence,
      },
      target: distributionsOf(attributes),
      detail: {
        batchProportions: Object.fromEntries(
          attributes.map((a, i) => [
            a.name,
            Object.fromEntries(a.groups.map((g, k) => [g, proportions[i][k]])),
          ]),
        ),
        timestep: t,
        samplerStep: stop,
        gradientNorm: outcome.gradientNorm,
      },
      biasEstimate: Object.fromEntries(
        attributes.map((a, i) => [a.name, shenBias(normalized(proportions[i]), a.target)]),
      ),
      learningRate,
    };
  };

  return yield* trainMethod("subgroup", options, resolved, {
    adapters,
    stateKind: STATE_KIND,
    settings,
    step: trainStep,
    // Within the run, against the target the step just used.
    evaluation: { classifier, target: (stepTarget) => stepTarget ?? currentTarget() },
    beforeDone: (stepsDone) => {
      const { kinds, rank } = resolved.adapters;
      model.info = {
        ...model.info,
        subgroupTuning: {
          steps: stepsDone,
          seed: resolved.seed,
          prompts: options.prompts,
          target: currentTarget(),
          trainable: [...kinds],
          rank: kinds.some((k) => k.endsWith("-lora")) ? rank : undefined,
          consistencyWeight: lambda,
          confidenceWeight: gamma,
          learningRate: resolved.learningRate,
          batchSize,
          emaDecay: resolved.emaDecay,
        },
      };
    },
  });
}

/** Batch-mean probabilities sum to 1 up to float error; the bias metric wants an exact vector. */
function normalized(values: number[]): number[] {
  const sum = values.reduce((s, v) => s + v, 0);
  return values.map((v) => v / sum);
}
