/**
 * Method 3 — fair Bayesian perturbation (FairDiffusion, Luo et al.): train or fine-tune the
 * denoiser with a per-sample loss weight w_i = 1 + Σ_a σ[a, g_a(i)]·ξ_{i,a} (ξ ~ N(0, 1), fresh
 * per sample and attribute), loss = mean_i w_i·ℓ_i. After each step the fairness score
 * y = −Σ_a (max_g ℓ̄_g − min_g ℓ̄_g) of the *unweighted* per-sample losses is stored with the σ
 * that was used; every T steps an exact GP fitted to the stored pairs picks the σ ∈ [0, 1]^K of
 * highest UCB (μ + √β·σ_post, β = 0.1); every step σ ← ρσ + (1 − ρ)U(0, 1)^K (ρ = 0.95). The
 * arithmetic lives in perturbationWeights.ts and sigmaSearch.ts; this file is the training loop.
 *
 * The same loop with `perturbation: "none"` is plain training on exactly the same batches, noise
 * and timesteps (σ stays 0) — the baseline FairDiffusion is compared against.
 *
 * What is trained (adapters.ts): the UNet's weights (as in the paper) by default; `trainable:
 * ["text", "unet"]` adds the text encoder's, and LoRA or a soft prompt also fit. From scratch:
 * pass a model whose autoencoder is trained (stage 1) and a fresh denoiser; to fine-tune, pass a
 * trained model (e.g. cxr-mini). Examples carry their group labels. Training runs in the
 * calling thread: the fairness score needs every sample's unweighted loss each step, which the
 * data-parallel trainer's scalar protocol does not return.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import { toTensors } from "../parallel/replica";
import { perSampleDenoisingLoss, weightedMean } from "../pipeline/denoiserReplica";
import { denoisingBatches } from "../pipeline/denoisingBatch";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { RunSettings } from "../pipeline/runState";
import { examplesFingerprint, listSetting, modelFingerprint } from "../pipeline/runSettings";
import { encodeLatents, type TrainingExample } from "../pipeline/trainDenoiser";
import { createRng } from "../util/random";
import { TrainedAdapters } from "./adapters";
import type { MethodEvent } from "./methodEvents";
import { checkChoice } from "./methodOptionError";
import type { MethodOptimization } from "./methodOptimization";
import {
  commonRunSettings,
  resolveMethodOptions,
  type MethodDefaults,
  type MethodOptions,
} from "./methodOptions";
import type { MethodRunSummary, MethodStepOutcome } from "./methodRunLoop";
import { uniformDistributions } from "./methodTarget";
import { trainMethod } from "./methodTraining";
import {
  fairnessScore,
  groupIndices,
  groupLossGap,
  groupMeanLosses,
  perturbationLayout,
  perturbationWeights,
  sigmaLabels,
  type PerturbationLayout,
} from "./perturbationWeights";
import { SigmaSearch, type SigmaSearchState } from "./sigmaSearch";

export interface LabelledTrainingExample extends TrainingExample {
  /** attribute → group of this example (an attribute may be absent when unknown). */
  attributes: GroupAssignment;
}

export interface FairPerturbationOptions extends MethodOptions {
  /** Training examples with group labels (e.g. the biased cohort the model learned from). */
  examples: readonly LabelledTrainingExample[];
  /** Sensitive attributes whose groups get a σ each (e.g. the cohort's sex and race). */
  attributes: readonly SensitiveAttribute[];
  /** Classifier-free-guidance prompt dropout (default 0.1). */
  promptDropout?: number;
  /** "bayesian" (default) or "none": plain training on the same batches, the baseline. */
  perturbation?: "bayesian" | "none";
  /** Steps between GP fits, T (default 30). */
  every?: number;
  /** Exploration keep-rate ρ (default 0.95). */
  rho?: number;
  /** UCB weight β (default 0.1). */
  beta?: number;
  /** Initial σ (default all ones). */
  initialSigma?: number[];
  /** Subgroup classifier for the periodic evaluation (its target, default uniform: `target`). */
  classifier?: SubgroupClassifier;
}

export type FairPerturbationSummary = MethodRunSummary;

/** Method 3's defaults (docs/methods.md §4.3). */
const PERTURBATION_DEFAULTS: MethodDefaults = {
  batchSize: 32,
  learningRate: 1e-4,
  weightDecay: 1e-2,
  warmupSteps: (steps) => Math.min(100, Math.ceil(steps / 10)),
  trainable: ["unet"],
  prompted: false,
};

const STATE_KIND = "fair-perturbation-state";

/** Group label of each attribute as a record, for step events. */
function named(layout: PerturbationLayout, values: readonly (readonly number[])[]) {
  return Object.fromEntries(
    layout.attributes.map((a, k) => [
      a.name,
      Object.fromEntries(
        a.groups.map((g, j) => [g, Number.isNaN(values[k][j]) ? null : values[k][j]]),
      ),
    ]),
  );
}

export async function* fairBayesianPerturbation(
  model: LatentDiffusionModel,
  options: FairPerturbationOptions,
): AsyncGenerator<MethodEvent, FairPerturbationSummary> {
  const resolved = resolveMethodOptions(options, PERTURBATION_DEFAULTS);
  if (options.examples.length === 0) throw new Error("no training examples");
  const mode = checkChoice("perturbation", options.perturbation ?? "bayesian", [
    "bayesian",
    "none",
  ]);
  if (options.evaluation && !options.classifier) {
    throw new Error("evaluation needs a classifier (options.classifier)");
  }
  const layout = perturbationLayout(options.attributes);
  const examples = options.examples;
  const groups = groupIndices(
    layout,
    examples.map((e) => e.attributes),
  );
  const batchSize = resolved.batchSize;
  const promptDropout = options.promptDropout ?? 0.1;
  const search = new SigmaSearch({
    size: layout.size,
    seed: resolved.seed,
    every: options.every,
    rho: options.rho,
    beta: options.beta,
    initial: options.initialSigma,
  });
  const makeBatch = denoisingBatches(model, examples, await encodeLatents(model, [...examples]), {
    seed: resolved.seed,
    batchSize,
    promptDropout,
    stream: "perturb-step",
  });
  const labels = sigmaLabels(layout);
  // The target only sets the evaluation's bias figures.
  const currentTarget = resolved.target ?? (() => uniformDistributions(layout.attributes));

  const trainStep = async (
    step: number,
    optimization: MethodOptimization,
  ): Promise<MethodStepOutcome> => {
    const target = currentTarget();
    const batch = makeBatch(step);
    const batchGroups = groups.map((g) => Int32Array.from(batch.indices, (i) => g[i]));
    const sigmaUsed =
      mode === "bayesian" ? Array.from(search.sigma) : new Array<number>(layout.size).fill(0);
    const weights = perturbationWeights(
      layout,
      sigmaUsed,
      batchGroups,
      createRng(resolved.seed).fork(`perturb-weights:${step}`),
    );
    const learningRate = optimization.learningRateAt(step);
    const inputs = toTensors(batch.arrays);
    const weightTensor = tf.tensor1d(weights);
    let outcome;
    try {
      outcome = await optimization.step(
        learningRate,
        () => {
          const perSample = perSampleDenoisingLoss(
            model.textEncoder,
            model.unet,
            model.config.noise.predictionType,
            inputs,
          );
          return { total: weightedMean(perSample, weightTensor), side: [perSample] };
        },
        async ([perSample]) => Float32Array.from(await perSample.data()),
      );
    } finally {
      tf.dispose(inputs);
      weightTensor.dispose();
    }
    const losses = outcome.extras;
    const means = groupMeanLosses(layout, losses, batchGroups);
    const score = fairnessScore(means);
    const update = mode === "bayesian" ? search.advance(step + 1, score) : undefined;
    const unweighted = losses.reduce((s, v) => s + v, 0) / losses.length;
    const gaps = Object.fromEntries(
      layout.attributes.map((a, k) => [`gap:${a.name}`, groupLossGap(means[k])]),
    );
    return {
      images: batchSize,
      losses: { total: outcome.loss, unweighted, ...gaps },
      target,
      detail: {
        sigma: Object.fromEntries(labels.map((l, j) => [l, sigmaUsed[j]])),
        groupLosses: named(layout, means),
        fairnessScore: score,
        weights: { min: Math.min(...weights), max: Math.max(...weights) },
        gradientNorm: outcome.gradientNorm,
        ...(update ? { sigmaUpdate: update } : {}),
      },
      biasEstimate: {},
      learningRate,
    };
  };

  // Before any step, nothing attached: what the run starts from. Left out: the target and the
  // classifier (evaluation only).
  const settings: RunSettings = {
    model: await modelFingerprint(model),
    "training examples": examplesFingerprint(options.examples),
    attributes: options.attributes.map((a) => `${a.name}=${a.groups.join(",")}`).join(" "),
    ...commonRunSettings(resolved),
    "prompt dropout": promptDropout,
    perturbation: mode,
    "σ search every": search.every,
    "σ keep-rate ρ": search.rho,
    "UCB β": search.beta,
    "initial σ": listSetting(options.initialSigma) ?? "ones",
  };
  const adapters = await TrainedAdapters.attach(
    model,
    resolved.adapters,
    createRng(resolved.seed).fork("adapters"),
  );
  return yield* trainMethod<SigmaSearchState>("perturb", options, resolved, {
    adapters,
    stateKind: STATE_KIND,
    settings,
    extraState: {
      save: () => search.state(),
      restore: (extra, file) => {
        if (!extra) throw new Error(`${file} holds no σ search state`);
        search.restore(extra);
      },
    },
    step: trainStep,
    evaluation: { classifier: options.classifier, target: () => currentTarget() },
    beforeDone: (stepsDone) => {
      model.info = {
        ...model.info,
        fairPerturbation: {
          steps: stepsDone,
          seed: resolved.seed,
          perturbation: mode,
          attributes: layout.attributes.map((a) => a.name),
          sigma: Array.from(search.sigma),
          every: search.every,
          rho: search.rho,
          beta: search.beta,
          learningRate: resolved.learningRate,
          batchSize,
        },
      };
    },
  });
}
