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
 * What is trained: the UNet (as in the paper), plus the text encoder with `trainText`. From
 * scratch: pass a model whose autoencoder is trained (stage 1) and a fresh denoiser; to fine-tune,
 * pass a trained model (e.g. cxr-mini). Examples carry their group labels. Training runs in the
 * calling thread: the fairness score needs every sample's unweighted loss each step, which the
 * data-parallel trainer's scalar protocol does not return.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import { buildOptimizer } from "../parallel/optimizerSpec";
import { toTensors } from "../parallel/replica";
import { perSampleDenoisingLoss, weightedMean } from "../pipeline/denoiserReplica";
import { denoisingBatches } from "../pipeline/denoisingBatch";
import { WeightAverage } from "../pipeline/ema";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { learningRateAt } from "../pipeline/learningRateSchedule";
import {
  loadRunState,
  restoreVariables,
  saveRunState,
  variablesState,
  variableShapes,
  type RunSettings,
} from "../pipeline/runState";
import { examplesFingerprint, listSetting, modelFingerprint } from "../pipeline/runSettings";
import { encodeLatents, type TrainingExample } from "../pipeline/trainDenoiser";
import { createRng } from "../util/random";
import { gradientStep } from "./gradientStep";
import type { MethodEvent, TargetDistributions, TargetGetter } from "./methodEvents";
import {
  methodRunLoop,
  type MethodRunOptions,
  type MethodRunSummary,
  type MethodStepOutcome,
} from "./methodRunLoop";
import { EvaluationClock, checkEvaluationOptions, periodicEvaluation } from "./periodicEvaluation";
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

export interface FairPerturbationOptions extends MethodRunOptions {
  /** Training examples with group labels (e.g. the biased cohort the model learned from). */
  examples: readonly LabelledTrainingExample[];
  /** Sensitive attributes whose groups get a σ each (e.g. the cohort's sex and race). */
  attributes: readonly SensitiveAttribute[];
  seed: number;
  batchSize?: number;
  /** Peak learning rate (default 1e-4, for fine-tuning). */
  learningRate?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** Classifier-free-guidance prompt dropout (default 0.1). */
  promptDropout?: number;
  /** Also train the text encoder (default false: the UNet only, as the paper). */
  trainText?: boolean;
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
  /** EMA of the weights, copied into the model at the end (default: none). */
  emaDecay?: number;
  /** Target for the evaluation events' bias figures (default uniform). */
  target?: TargetGetter;
  /** Subgroup classifier for the periodic evaluation. */
  classifier?: SubgroupClassifier;
}

export type FairPerturbationSummary = MethodRunSummary;

const STATE_KIND = "fair-perturbation-state";

function checkOptions(options: FairPerturbationOptions): void {
  if (!Number.isInteger(options.steps) || options.steps < 0) {
    throw new Error(`steps must be a non-negative integer, got ${options.steps}`);
  }
  if (options.examples.length === 0) throw new Error("no training examples");
  const batch = options.batchSize ?? 32;
  if (!Number.isInteger(batch) || batch < 2) {
    throw new Error(`batchSize must be an integer ≥ 2, got ${batch}`);
  }
  const mode = options.perturbation ?? "bayesian";
  if (mode !== "bayesian" && mode !== "none") {
    throw new Error(`perturbation must be "bayesian" or "none", got ${String(mode)}`);
  }
  if (options.evaluation) {
    checkEvaluationOptions(options.evaluation);
    if (!options.classifier) throw new Error("evaluation needs a classifier (options.classifier)");
  }
}

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
  checkOptions(options);
  const layout = perturbationLayout(options.attributes);
  const examples = options.examples;
  const groups = groupIndices(
    layout,
    examples.map((e) => e.attributes),
  );
  const mode = options.perturbation ?? "bayesian";
  const batchSize = options.batchSize ?? 32;
  const peak = options.learningRate ?? 1e-4;
  const makeBatch = denoisingBatches(model, examples, await encodeLatents(model, [...examples]), {
    seed: options.seed,
    batchSize,
    promptDropout: options.promptDropout ?? 0.1,
    stream: "perturb-step",
  });
  const search = new SigmaSearch({
    size: layout.size,
    seed: options.seed,
    every: options.every,
    rho: options.rho,
    beta: options.beta,
    initial: options.initialSigma,
  });
  const labels = sigmaLabels(layout);
  const variables = [
    ...(options.trainText ? model.textEncoder.trainableParameters() : []),
    ...model.unet.trainableParameters(),
  ];
  const optimizer = buildOptimizer({
    name: "adamw",
    learningRate: peak,
    weightDecay: options.weightDecay ?? 1e-2,
  });
  const lrSchedule = {
    peak,
    warmupSteps: options.warmupSteps ?? Math.min(100, Math.ceil(options.steps / 10)),
    totalSteps: options.steps,
  };
  const readWeights = () =>
    Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const ema =
    options.emaDecay !== undefined
      ? new WeightAverage(await readWeights(), options.emaDecay)
      : undefined;
  const uniformTargets = (): TargetDistributions =>
    Object.fromEntries(
      layout.attributes.map((a) => [
        a.name,
        Object.fromEntries(a.groups.map((g) => [g, 1 / a.groups.length])),
      ]),
    );
  const currentTarget = (): TargetDistributions =>
    options.target ? options.target() : uniformTargets();

  const trainStep = async (step: number): Promise<MethodStepOutcome> => {
    const target = currentTarget();
    const batch = makeBatch(step);
    const batchGroups = groups.map((g) => Int32Array.from(batch.indices, (i) => g[i]));
    const sigmaUsed =
      mode === "bayesian" ? Array.from(search.sigma) : new Array<number>(layout.size).fill(0);
    const weights = perturbationWeights(
      layout,
      sigmaUsed,
      batchGroups,
      createRng(options.seed).fork(`perturb-weights:${step}`),
    );
    const learningRate = learningRateAt(lrSchedule, step);
    const inputs = toTensors(batch.arrays);
    const weightTensor = tf.tensor1d(weights);
    let outcome;
    try {
      outcome = await gradientStep(
        variables,
        optimizer,
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
        { learningRate, clipNorm: options.clipNorm ?? 1 },
      );
    } finally {
      tf.dispose(inputs);
      weightTensor.dispose();
    }
    if (ema) ema.update(await readWeights());
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

  // Before any step: what the run starts from.
  const settings = await perturbationRunSettings(model, options, {
    batchSize,
    peak,
    warmupSteps: lrSchedule.warmupSteps,
    mode,
    search,
  });
  const clock = new EvaluationClock();
  const shapes = variableShapes(variables);
  try {
    return yield* methodRunLoop("perturb", options, {
      clock,
      step: trainStep,
      saveState: async (file, stepsDone) =>
        saveRunState<SigmaSearchState>(file, STATE_KIND, settings, shapes, {
          step: stepsDone,
          complete: stepsDone >= options.steps,
          ...(await variablesState(variables, optimizer, ema)),
          extra: search.state(),
        }),
      restoreState: (file) => {
        const state = loadRunState<SigmaSearchState>(file, STATE_KIND, settings, shapes);
        if (!state.extra) throw new Error(`${file} holds no σ search state`);
        restoreVariables(file, state, variables, optimizer, ema);
        search.restore(state.extra);
        return state.step;
      },
      evaluate: (settings, stepsDone) =>
        periodicEvaluation(model, options.classifier as SubgroupClassifier, settings, {
          method: "perturb",
          step: stepsDone,
          target: currentTarget(),
          clock,
          signal: options.signal,
        }),
      finish: () => {
        ema?.values.forEach((values, i) =>
          tf.tidy(() => variables[i].assign(tf.tensor(values, variables[i].shape))),
        );
      },
      beforeDone: (stepsDone) => {
        model.info = {
          ...model.info,
          fairPerturbation: {
            steps: stepsDone,
            seed: options.seed,
            perturbation: mode,
            attributes: layout.attributes.map((a) => a.name),
            sigma: Array.from(search.sigma),
            every: search.every,
            rho: search.rho,
            beta: search.beta,
            learningRate: peak,
            batchSize,
          },
        };
      },
    });
  } finally {
    optimizer.dispose();
  }
}

/**
 * What a perturbation run's result depends on: the model it starts from (call before training),
 * the labelled examples, the attributes given a σ, and every training setting, defaults
 * resolved. Left out: the target and classifier (evaluation only), checkpointing.
 */
async function perturbationRunSettings(
  model: LatentDiffusionModel,
  options: FairPerturbationOptions,
  resolved: {
    batchSize: number;
    peak: number;
    warmupSteps: number;
    mode: "bayesian" | "none";
    search: SigmaSearch;
  },
): Promise<RunSettings> {
  const { search } = resolved;
  return {
    model: await modelFingerprint(model),
    "training examples": examplesFingerprint(options.examples),
    attributes: options.attributes.map((a) => `${a.name}=${a.groups.join(",")}`).join(" "),
    steps: options.steps,
    seed: options.seed,
    "batch size": resolved.batchSize,
    "learning rate": resolved.peak,
    "warm-up steps": resolved.warmupSteps,
    "weight decay": options.weightDecay ?? 1e-2,
    "clip norm": options.clipNorm ?? 1,
    "prompt dropout": options.promptDropout ?? 0.1,
    "train text": options.trainText ?? false,
    perturbation: resolved.mode,
    "σ search every": search.every,
    "σ keep-rate ρ": search.rho,
    "UCB β": search.beta,
    "initial σ": listSetting(options.initialSigma) ?? "ones",
    "EMA decay": options.emaDecay ?? null,
  };
}
