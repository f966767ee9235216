/**
 * The KL autoencoder as a `TrainableModel` (stage 1 of latent diffusion). Batch: images
 * [B,H,W,C] in [−1, 1] and eps [B,h,w,c] (reparameterisation noise drawn by the trainer).
 * Loss: pixel MSE + klWeight · KL per latent element.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TrainableModel } from "../backend/trainableModel";
import { KLAutoencoder, klDivergence, type AutoencoderConfig } from "../models/autoencoder";

export interface AutoencoderReplicaOptions {
  config: AutoencoderConfig;
  klWeight: number;
}

export function autoencoderTrainable(
  autoencoder: KLAutoencoder,
  klWeight: number,
  ownsModule: boolean,
): TrainableModel {
  return {
    variables: autoencoder.trainableParameters(),
    loss: (batch) =>
      tf.tidy(() => {
        const images = batch.images as tf.Tensor4D;
        const distribution = autoencoder.encode(images);
        const std = tf.exp(tf.mul(distribution.logVariance, 0.5));
        const z = tf.add(distribution.mean, tf.mul(std, batch.eps)) as tf.Tensor4D;
        const reconstruction = tf.mean(tf.square(tf.sub(autoencoder.decode(z), images)));
        const latentElements = distribution.mean.size / distribution.mean.shape[0];
        const kl = tf.div(tf.mean(klDivergence(distribution)), latentElements);
        return tf.add(reconstruction, tf.mul(kl, klWeight)) as tf.Scalar;
      }),
    // The reparameterisation noise arrives in the batch: the step can be replayed.
    replayable: true,
    dispose: () => {
      if (ownsModule) autoencoder.dispose();
    },
  };
}

export function createAutoencoderReplica(options: Record<string, unknown>): TrainableModel {
  const { config, klWeight } = options as unknown as AutoencoderReplicaOptions;
  return autoencoderTrainable(new KLAutoencoder(config, 0), klWeight, true);
}
