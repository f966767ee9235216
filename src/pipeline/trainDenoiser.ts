/**
 * Stage 2 of latent diffusion: train the text encoder and UNet to denoise the frozen
 * autoencoder's latents of (image, prompt) pairs, with classifier-free-guidance prompt dropout,
 * AdamW, warm-up + cosine learning rate, gradient clipping and an EMA of the weights;
 * data-parallel over `replicas` threads. Resumable from a state file, bit for bit.
 */
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from "../io/checkpoint";
import { DataParallelTrainer } from "../parallel/dataParallelTrainer";
import { compiledModule } from "../parallel/compiledModule";
import { defaultReplicas } from "../parallel/defaultReplicas";
import { denoiserTrainable } from "./denoiserReplica";
import { denoisingBatches } from "./denoisingBatch";
import { WeightAverage } from "./ema";
import { imagesToTensor, type LatentDiffusionModel } from "./latentDiffusionModel";
import { optimizerStateFrom, optimizerTensors } from "./optimizerCheckpoint";
import { stageRecord, type TrainingEvent, type TrainingSummary } from "./trainingEvents";
import { trainingLoop } from "./trainingLoop";

export interface TrainingExample {
  image: { data: Float32Array };
  prompt: string;
}

export interface DenoiserTrainingOptions {
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
  /** Training-state file: written every `checkpointEvery` steps and at the end; resumed from if present. */
  stateFile?: string;
  checkpointEvery?: number;
}

const STATE_KIND = "denoiser-training-state";

interface StateMetadata {
  step: number;
  seed: number;
  batchSize: number;
  iterations: number;
}

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
      learningRate: options.learningRate ?? 2e-4,
      weightDecay: options.weightDecay ?? 1e-2,
    },
    backend: tf.getBackend() as "wasm",
    local,
  });
  try {
    const ema = new WeightAverage(await trainer.weights(), options.emaDecay ?? 0.999);
    let startStep = 0;
    if (options.stateFile && fs.existsSync(options.stateFile)) {
      startStep = await restoreState(options.stateFile, trainer, ema, options, batchSize);
    }
    const summary = yield* trainingLoop({
      trainer,
      startStep,
      totalSteps: options.steps,
      schedule: {
        peak: options.learningRate ?? 2e-4,
        warmupSteps: options.warmupSteps ?? Math.min(100, Math.ceil(options.steps / 10)),
        totalSteps: options.steps,
      },
      clipNorm: options.clipNorm ?? 1,
      makeBatch: (step) => batches(step).arrays,
      ema,
      signal: options.signal,
      checkpointEvery: options.checkpointEvery,
      checkpoint: options.stateFile
        ? async (stepsDone) => {
            await saveState(
              options.stateFile as string,
              trainer,
              ema,
              options.seed,
              batchSize,
              stepsDone,
            );
            return options.stateFile as string;
          }
        : undefined,
    });
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

async function saveState(
  file: string,
  trainer: DataParallelTrainer,
  ema: WeightAverage,
  seed: number,
  batchSize: number,
  step: number,
): Promise<void> {
  const weights = await trainer.weights();
  const optimizer = await trainer.optimizerState();
  const tensors: Record<string, CheckpointTensor> = {};
  const shapes = trainer.variables.map((v) => v.shape);
  weights.forEach((w, i) => (tensors[`weights.${i}`] = { values: w, shape: shapes[i] }));
  ema.values.forEach((w, i) => (tensors[`ema.${i}`] = { values: w, shape: shapes[i] }));
  Object.assign(tensors, optimizerTensors(optimizer));
  const metadata: StateMetadata = { step, seed, batchSize, iterations: optimizer.iterations };
  saveCheckpoint(file, { kind: STATE_KIND, metadata, tensors });
}

async function restoreState(
  file: string,
  trainer: DataParallelTrainer,
  ema: WeightAverage,
  options: DenoiserTrainingOptions,
  batchSize: number,
): Promise<number> {
  const state = loadCheckpoint<StateMetadata>(file, STATE_KIND);
  const { step, seed } = state.metadata;
  if (seed !== options.seed || state.metadata.batchSize !== batchSize) {
    throw new Error(
      `${file} was written by a run with seed ${seed}, batch ${state.metadata.batchSize}; this run has seed ${options.seed}, batch ${batchSize}`,
    );
  }
  const count = trainer.variables.length;
  const weights = Array.from({ length: count }, (_, i) => state.tensors[`weights.${i}`].values);
  const optimizer = optimizerStateFrom(state.tensors, state.metadata.iterations);
  await trainer.restore(weights, optimizer);
  for (let i = 0; i < count; i++) ema.values[i].set(state.tensors[`ema.${i}`].values);
  return step;
}
