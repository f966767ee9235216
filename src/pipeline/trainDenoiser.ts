/**
 * Stage 2 of latent diffusion: train the text encoder and UNet to denoise the frozen
 * autoencoder's latents of (image, prompt) pairs, with classifier-free-guidance prompt dropout,
 * AdamW, warm-up + cosine learning rate, gradient clipping and an EMA of the weights;
 * data-parallel over `replicas` threads. Resumable from a state file, bit for bit.
 */
import * as tf from "@tensorflow/tfjs-core";
import { DataParallelTrainer } from "../parallel/dataParallelTrainer";
import { compiledModule } from "../parallel/compiledModule";
import { defaultReplicas } from "../parallel/defaultReplicas";
import { denoiserTrainable } from "./denoiserReplica";
import { denoisingBatches } from "./denoisingBatch";
import { WeightAverage } from "./ema";
import { imagesToTensor, type LatentDiffusionModel } from "./latentDiffusionModel";
import type { RunSettings } from "./runState";
import { examplesFingerprint, modelFingerprint } from "./runSettings";
import { resumableTraining, type StageStateOptions } from "./trainerState";
import { stageRecord, type TrainingEvent, type TrainingSummary } from "./trainingEvents";

export interface TrainingExample {
  image: { data: Float32Array };
  prompt: string;
}

export interface DenoiserTrainingOptions extends StageStateOptions {
  steps: number;
  seed: number;
  batchSize?: number;
  learningRate?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** Probability of replacing a prompt by the null prompt (classifier-free guidance). */
  promptDropout?: number;
  emaDecay?: number;
  /** Threads training in parallel (default: one per core on CPU backends, one on GPU). */
  replicas?: number;
  signal?: AbortSignal;
  /**
   * Settings of the caller that shaped the inputs (e.g. a preset's name and cohort size): kept in
   * the state file beside the stage's own, so that a refusal can name them.
   */
  callerSettings?: RunSettings;
}

const STATE_KIND = "denoiser-training-state";

/** Encodes every training image once with the frozen autoencoder (posterior means, scaled). */
export async function encodeLatents(
  model: LatentDiffusionModel,
  examples: TrainingExample[],
): Promise<Float32Array> {
  const { imageSize, imageChannels } = model.config;
  const chunks: Float32Array[] = [];
  for (let start = 0; start < examples.length; start += 64) {
    const part = examples.slice(start, start + 64).map((e) => e.image);
    const latents = tf.tidy(() =>
      model.autoencoder.imagesToLatents(imagesToTensor(part, imageSize, imageChannels)),
    );
    chunks.push((await latents.data()) as Float32Array);
    latents.dispose();
  }
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export async function* denoiserTraining(
  model: LatentDiffusionModel,
  examples: TrainingExample[],
  options: DenoiserTrainingOptions,
): AsyncGenerator<TrainingEvent, TrainingSummary> {
  if (examples.length === 0) throw new Error("no training examples");
  const batchSize = options.batchSize ?? 32;
  const learningRate = options.learningRate ?? 2e-4;
  const warmupSteps = options.warmupSteps ?? Math.min(100, Math.ceil(options.steps / 10));
  const emaDecay = options.emaDecay ?? 0.999;
  // What the result depends on (replicas only change float summation order: left out).
  const settings: RunSettings = {
    ...options.callerSettings,
    model: await modelFingerprint(model),
    "training examples": examplesFingerprint(examples),
    steps: options.steps,
    seed: options.seed,
    "batch size": batchSize,
    "learning rate": learningRate,
    "warm-up steps": warmupSteps,
    "weight decay": options.weightDecay ?? 1e-2,
    "clip norm": options.clipNorm ?? 1,
    "prompt dropout": options.promptDropout ?? 0.1,
    "EMA decay": emaDecay,
  };
  const batches = denoisingBatches(model, examples, await encodeLatents(model, examples), {
    seed: options.seed,
    batchSize,
    promptDropout: options.promptDropout ?? 0.1,
    stream: "denoiser-step",
  });
  const { predictionType } = model.config.noise;
  const local = denoiserTrainable(model.textEncoder, model.unet, predictionType, false);
  const trainer = await DataParallelTrainer.create({
    replicas: options.replicas ?? defaultReplicas(),
    model: {
      module: compiledModule(__dirname, "denoiserReplica"),
      exportName: "createDenoiserReplica",
      options: { config: model.config, tokenizer: model.tokenizer.toJSON() },
    },
    optimizer: {
      name: "adamw",
      learningRate,
      weightDecay: options.weightDecay ?? 1e-2,
    },
    backend: tf.getBackend() as "wasm",
    local,
  });
  try {
    const ema = new WeightAverage(await trainer.weights(), emaDecay);
    const summary = yield* resumableTraining(
      trainer,
      { ...options, kind: STATE_KIND, settings },
      {
        totalSteps: options.steps,
        schedule: { peak: learningRate, warmupSteps, totalSteps: options.steps },
        clipNorm: options.clipNorm ?? 1,
        makeBatch: (step) => batches(step).arrays,
        ema,
        signal: options.signal,
      },
    );
    // The model keeps the averaged weights: they sample better than the last raw step.
    ema.assignTo(local.variables);
    model.info = {
      ...model.info,
      denoiser: stageRecord(summary, batchSize, options.seed),
    };
    return summary;
  } finally {
    await trainer.dispose();
  }
}
