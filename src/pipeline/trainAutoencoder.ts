/**
 * Stage 1 of latent diffusion: train the KL autoencoder on the training images (pixel MSE +
 * a small KL term), then calibrate its scaling factor so diffusion sees unit-variance latents
 * (Stable Diffusion's 0.18215 is the same idea). Resumable from a state file, bit for bit.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ArrayBatch } from "../backend/trainableModel";
import { DataParallelTrainer } from "../parallel/dataParallelTrainer";
import { compiledModule } from "../parallel/compiledModule";
import { defaultReplicas } from "../parallel/defaultReplicas";
import { createRng } from "../util/random";
import { autoencoderTrainable } from "./autoencoderReplica";
import { EpochOrder } from "./epochOrder";
import { imagesToTensor, type LatentDiffusionModel } from "./latentDiffusionModel";
import type { RunSettings } from "./runState";
import { examplesFingerprint, modelFingerprint } from "./runSettings";
import type { TrainingExample } from "./trainDenoiser";
import { resumableTraining, type StageStateOptions } from "./trainerState";
import { stageRecord, type TrainingEvent, type TrainingSummary } from "./trainingEvents";

export interface AutoencoderTrainingOptions extends StageStateOptions {
  steps: number;
  seed: number;
  batchSize?: number;
  learningRate?: number;
  /** Weight of the KL term per latent element (default 1e-3). */
  klWeight?: number;
  replicas?: number;
  signal?: AbortSignal;
  /** Settings of the caller that shaped the inputs, kept in the state file (see denoiserTraining). */
  callerSettings?: RunSettings;
}

const STATE_KIND = "autoencoder-training-state";

export async function* autoencoderTraining(
  model: LatentDiffusionModel,
  examples: Pick<TrainingExample, "image">[],
  options: AutoencoderTrainingOptions,
): AsyncGenerator<TrainingEvent, TrainingSummary> {
  if (examples.length === 0) throw new Error("no training examples");
  const batchSize = options.batchSize ?? 32;
  const { imageSize, imageChannels } = model.config;
  const config = model.autoencoder.config;
  const latentSize = model.autoencoder.latentSize;
  const pixels = imageSize * imageSize * imageChannels;
  const latentElements = latentSize * latentSize * config.latentChannels;
  const order = new EpochOrder(examples.length, options.seed);
  const klWeight = options.klWeight ?? 1e-3;

  const makeBatch = (step: number): ArrayBatch => {
    const rng = createRng(options.seed).fork(`autoencoder-step:${step}`);
    const images = new Float32Array(batchSize * pixels);
    order.batchIndices(step, batchSize).forEach((index, k) => {
      const data = examples[index].image.data;
      for (let j = 0; j < pixels; j++) images[k * pixels + j] = data[j] * 2 - 1;
    });
    const eps = new Float32Array(batchSize * latentElements);
    for (let j = 0; j < eps.length; j++) eps[j] = rng.normal();
    return {
      images: { values: images, shape: [batchSize, imageSize, imageSize, imageChannels] },
      eps: { values: eps, shape: [batchSize, latentSize, latentSize, config.latentChannels] },
    };
  };

  const learningRate = options.learningRate ?? 1e-3;
  // What the result depends on (replicas only change float summation order: left out).
  const settings: RunSettings = {
    ...options.callerSettings,
    model: await modelFingerprint(model),
    "training images": examplesFingerprint(examples.map((e) => ({ image: e.image }))),
    steps: options.steps,
    seed: options.seed,
    "batch size": batchSize,
    "learning rate": learningRate,
    "KL weight": klWeight,
  };
  const trainer = await DataParallelTrainer.create({
    replicas: options.replicas ?? defaultReplicas(),
    model: {
      module: compiledModule(__dirname, "autoencoderReplica"),
      exportName: "createAutoencoderReplica",
      options: { config, klWeight },
    },
    optimizer: { name: "adamw", learningRate, weightDecay: 0 },
    backend: tf.getBackend() as "wasm",
    local: autoencoderTrainable(model.autoencoder, klWeight, false),
  });
  try {
    const summary = yield* resumableTraining(
      trainer,
      { ...options, kind: STATE_KIND, settings },
      {
        totalSteps: options.steps,
        schedule: {
          peak: learningRate,
          warmupSteps: Math.min(50, Math.ceil(options.steps / 10)),
          totalSteps: options.steps,
        },
        clipNorm: 1,
        makeBatch,
        signal: options.signal,
      },
    );
    await calibrateScalingFactor(model, examples);
    model.info = {
      ...model.info,
      autoencoder: stageRecord(summary, batchSize, options.seed),
    };
    return summary;
  } finally {
    await trainer.dispose();
  }
}

/** Sets scalingFactor = 1 / std of the posterior means over (up to 512) training images. */
export async function calibrateScalingFactor(
  model: LatentDiffusionModel,
  examples: Pick<TrainingExample, "image">[],
): Promise<number> {
  const { imageSize, imageChannels } = model.config;
  const subset = examples.slice(0, 512).map((e) => e.image);
  const stdTensor = tf.tidy(() => {
    const means = model.autoencoder.encode(imagesToTensor(subset, imageSize, imageChannels)).mean;
    return tf.moments(means).variance.sqrt();
  });
  const std = (await stdTensor.data())[0];
  stdTensor.dispose();
  const factor = std > 1e-6 ? 1 / std : 1;
  model.autoencoder.config.scalingFactor = factor;
  model.config.autoencoder.scalingFactor = factor;
  return factor;
}
