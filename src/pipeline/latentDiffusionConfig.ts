/**
 * Everything that defines a fairdiff latent diffusion model's architecture and noise process —
 * stored in every checkpoint so a model can be rebuilt exactly.
 */
import { DEFAULT_AUTOENCODER_CONFIG, type AutoencoderConfig } from "../models/autoencoder";
import {
  DEFAULT_TEXT_ENCODER_CONFIG,
  type TextEncoderConfig,
} from "../models/transformerTextEncoder";
import { DEFAULT_UNET_CONFIG, type UNetConfig } from "../models/unet";
import { resolveSchedulerConfig, type SchedulerConfig } from "../schedulers/schedulerConfig";

export interface LatentDiffusionConfig {
  imageSize: number;
  imageChannels: 1 | 3;
  autoencoder: AutoencoderConfig;
  unet: UNetConfig;
  textEncoder: TextEncoderConfig;
  /** Noise process used in training (and the default for sampling). */
  noise: SchedulerConfig;
}

export interface LatentDiffusionConfigInput {
  imageSize?: number;
  imageChannels?: 1 | 3;
  autoencoder?: Partial<AutoencoderConfig>;
  unet?: Partial<UNetConfig>;
  textEncoder?: Partial<TextEncoderConfig>;
  noise?: Partial<SchedulerConfig>;
}

/** Fills defaults and makes the parts agree (latent channels, context width, latent size). */
export function resolveLatentDiffusionConfig(
  input: LatentDiffusionConfigInput = {},
): LatentDiffusionConfig {
  const imageSize = input.imageSize ?? 32;
  const imageChannels = input.imageChannels ?? 1;
  if (imageChannels !== 1 && imageChannels !== 3) {
    throw new Error(`imageChannels must be 1 or 3, got ${String(imageChannels)}`);
  }
  const autoencoder: AutoencoderConfig = {
    ...DEFAULT_AUTOENCODER_CONFIG,
    ...input.autoencoder,
    imageSize,
    imageChannels,
  };
  const latentSize = imageSize / 2 ** (autoencoder.blockChannels.length - 1);
  if (!Number.isInteger(latentSize)) {
    throw new Error(
      `imageSize ${imageSize} does not halve ${autoencoder.blockChannels.length - 1} times`,
    );
  }
  const textEncoder: TextEncoderConfig = { ...DEFAULT_TEXT_ENCODER_CONFIG, ...input.textEncoder };
  const unet: UNetConfig = {
    ...DEFAULT_UNET_CONFIG,
    ...input.unet,
    inChannels: autoencoder.latentChannels,
    outChannels: autoencoder.latentChannels,
    sampleSize: latentSize,
    contextDim: textEncoder.width,
  };
  const noise = resolveSchedulerConfig({ ...input.noise });
  return { imageSize, imageChannels, autoencoder, unet, textEncoder, noise };
}
