/**
 * The denoiser (text encoder + UNet) as a `TrainableModel`, so training runs in one thread or
 * data-parallel. Everything random (noise, timesteps, prompt dropout) is drawn by the trainer
 * and arrives in the batch, so every replica count computes the same thing.
 *
 * Batch: latents, noise [B,h,w,c]; timesteps [B] (float); signal = √ᾱ_t, spread = √(1−ᾱ_t) [B];
 * tokenIds (int32) and tokenMask [B,L]; optional weights [B] (per-sample loss weights, mean 1).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TrainableModel } from "../backend/trainableModel";
import { TransformerTextEncoder } from "../models/transformerTextEncoder";
import { UNet } from "../models/unet";
import { WordTokenizer, type TokenizerJSON } from "../models/wordTokenizer";
import type { PredictionType } from "../schedulers/schedulerConfig";
import type { LatentDiffusionConfig } from "./latentDiffusionConfig";

export interface DenoiserReplicaOptions {
  config: LatentDiffusionConfig;
  tokenizer: TokenizerJSON;
}

/** Per-sample mean squared error of the network output against the prediction target, [B]. */
export function perSampleDenoisingLoss(
  textEncoder: Pick<TransformerTextEncoder, "encodeIds">,
  unet: UNet,
  prediction: PredictionType,
  batch: Record<string, tf.Tensor>,
): tf.Tensor1D {
  return tf.tidy(() => {
    const latents = batch.latents as tf.Tensor4D;
    const noise = batch.noise as tf.Tensor4D;
    const signal = tf.reshape(batch.signal, [-1, 1, 1, 1]);
    const spread = tf.reshape(batch.spread, [-1, 1, 1, 1]);
    const noisy = tf.add(tf.mul(latents, signal), tf.mul(noise, spread)) as tf.Tensor4D;
    const text = textEncoder.encodeIds(
      batch.tokenIds as tf.Tensor2D,
      batch.tokenMask as tf.Tensor2D,
    );
    const output = unet.apply(noisy, batch.timesteps as tf.Tensor1D, text.embeddings, text.mask);
    const target =
      prediction === "epsilon"
        ? noise
        : prediction === "v_prediction"
          ? tf.sub(tf.mul(noise, signal), tf.mul(latents, spread))
          : latents;
    return tf.mean(tf.square(tf.sub(output, target)), [1, 2, 3]) as tf.Tensor1D;
  });
}

/** Weighted mean of per-sample losses (weights default to 1). */
export function weightedMean(perSample: tf.Tensor1D, weights?: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => (weights ? tf.mean(tf.mul(perSample, weights)) : tf.mean(perSample)) as tf.Scalar,
  );
}

/** Wraps live modules (the trainer thread's model) as a trainable denoiser. */
export function denoiserTrainable(
  textEncoder: TransformerTextEncoder,
  unet: UNet,
  prediction: PredictionType,
  ownsModules: boolean,
): TrainableModel {
  return {
    variables: [...textEncoder.trainableParameters(), ...unet.trainableParameters()],
    loss: (batch) =>
      weightedMean(perSampleDenoisingLoss(textEncoder, unet, prediction, batch), batch.weights),
    // Everything random arrives in the batch (see above).
    replayable: true,
    dispose: () => {
      if (!ownsModules) return;
      textEncoder.dispose();
      unet.dispose();
    },
  };
}

/** Worker-side factory: builds the same modules (weights arrive from the trainer). */
export function createDenoiserReplica(options: Record<string, unknown>): TrainableModel {
  const { config, tokenizer } = options as unknown as DenoiserReplicaOptions;
  const textEncoder = new TransformerTextEncoder(
    WordTokenizer.fromJSON(tokenizer),
    config.textEncoder,
    0,
  );
  const unet = new UNet(config.unet, 0);
  return denoiserTrainable(textEncoder, unet, config.noise.predictionType, true);
}
