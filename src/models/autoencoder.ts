/**
 * KL-regularised autoencoder (Rombach et al. 2022, "KL-f4"-style at toy size): a conv encoder
 * maps an image to the mean and log-variance of a diagonal Gaussian over a small latent grid
 * (default 32×32×C → 8×8×4), a conv decoder maps latents back. Training adds a small KL term
 * toward N(0, I) so the latent space stays smooth and bounded for diffusion.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng } from "../util/random";
import { Conv2d } from "./conv2d";
import { normalValues } from "./initializers";
import { Module } from "./module";
import { GroupNorm } from "./normalization";
import { Downsample, Upsample } from "./resampling";
import { ResBlock } from "./resBlock";

export interface AutoencoderConfig {
  imageChannels: number;
  /** Image height = width. */
  imageSize: number;
  latentChannels: number;
  /** Channels per level; the map halves between levels (3 levels: 32 → 8). */
  blockChannels: number[];
  layersPerBlock: number;
  normGroups: number;
  /**
   * Multiplies latents before diffusion and divides them before decoding (Stable Diffusion's
   * 0.18215), chosen so the training latents have unit variance; 1 until calibrated.
   */
  scalingFactor: number;
}

export const DEFAULT_AUTOENCODER_CONFIG: AutoencoderConfig = {
  imageChannels: 1,
  imageSize: 32,
  latentChannels: 4,
  blockChannels: [32, 64, 64],
  layersPerBlock: 1,
  normGroups: 8,
  scalingFactor: 1,
};

export interface LatentDistribution {
  /** [B, h, w, latentChannels]. */
  mean: tf.Tensor4D;
  /** log σ², clipped to [−30, 20] as in latent diffusion. */
  logVariance: tf.Tensor4D;
}

export class KLAutoencoder extends Module {
  readonly config: AutoencoderConfig;
  private readonly encoderIn: Conv2d;
  private readonly encoderLevels: { blocks: ResBlock[]; down?: Downsample }[] = [];
  private readonly encoderMid: ResBlock;
  private readonly encoderNorm: GroupNorm;
  private readonly encoderOut: Conv2d;
  private readonly decoderIn: Conv2d;
  private readonly decoderMid: ResBlock;
  private readonly decoderLevels: { blocks: ResBlock[]; up?: Upsample }[] = [];
  private readonly decoderNorm: GroupNorm;
  private readonly decoderOut: Conv2d;

  constructor(config: Partial<AutoencoderConfig> = {}, rngOrSeed: Rng | number = 0) {
    super();
    this.config = { ...DEFAULT_AUTOENCODER_CONFIG, ...config };
    const c = this.config;
    const levels = c.blockChannels.length;
    if (c.imageSize % 2 ** (levels - 1) !== 0) {
      throw new Error(`imageSize ${c.imageSize} does not halve ${levels - 1} times`);
    }
    const rng = typeof rngOrSeed === "number" ? createRng(rngOrSeed) : rngOrSeed;
    const res = (name: string, inChannels: number, outChannels: number) =>
      this.addModule(
        name,
        new ResBlock({ inChannels, outChannels, groups: c.normGroups }, rng.fork(name)),
      );
    const top = c.blockChannels[levels - 1];

    this.encoderIn = this.addModule(
      "encoderIn",
      new Conv2d(c.imageChannels, c.blockChannels[0], rng.fork("encoderIn")),
    );
    let width = c.blockChannels[0];
    c.blockChannels.forEach((channels, i) => {
      const blocks: ResBlock[] = [];
      for (let j = 0; j < c.layersPerBlock; j++) {
        blocks.push(res(`encoder${i}_res${j}`, width, channels));
        width = channels;
      }
      const down =
        i < levels - 1
          ? this.addModule(`encoder${i}_down`, new Downsample(width, rng.fork(`encoder${i}_down`)))
          : undefined;
      this.encoderLevels.push({ blocks, down });
    });
    this.encoderMid = res("encoderMid", top, top);
    this.encoderNorm = this.addModule("encoderNorm", new GroupNorm(c.normGroups, top));
    this.encoderOut = this.addModule(
      "encoderOut",
      new Conv2d(top, 2 * c.latentChannels, rng.fork("encoderOut")),
    );

    this.decoderIn = this.addModule(
      "decoderIn",
      new Conv2d(c.latentChannels, top, rng.fork("decoderIn")),
    );
    this.decoderMid = res("decoderMid", top, top);
    width = top;
    for (let i = levels - 1; i >= 0; i--) {
      const channels = c.blockChannels[i];
      const blocks: ResBlock[] = [];
      for (let j = 0; j <= c.layersPerBlock; j++) {
        blocks.push(res(`decoder${i}_res${j}`, width, channels));
        width = channels;
      }
      const up =
        i > 0
          ? this.addModule(`decoder${i}_up`, new Upsample(width, rng.fork(`decoder${i}_up`)))
          : undefined;
      this.decoderLevels.push({ blocks, up });
    }
    this.decoderNorm = this.addModule("decoderNorm", new GroupNorm(c.normGroups, width));
    this.decoderOut = this.addModule(
      "decoderOut",
      new Conv2d(width, c.imageChannels, rng.fork("decoderOut")),
    );
  }

  /** Latent grid side for the configured image size. */
  get latentSize(): number {
    return this.config.imageSize / 2 ** (this.config.blockChannels.length - 1);
  }

  /** images: [B, H, W, imageChannels], values in [−1, 1]. */
  encode(images: tf.Tensor4D): LatentDistribution {
    if (images.shape[3] !== this.config.imageChannels) {
      throw new Error(
        `autoencoder expects ${this.config.imageChannels} image channels, got [${images.shape}]`,
      );
    }
    return tf.tidy(() => {
      let h = this.encoderIn.apply(images);
      for (const level of this.encoderLevels) {
        for (const block of level.blocks) h = block.apply(h);
        if (level.down) h = level.down.apply(h);
      }
      h = this.encoderMid.apply(h);
      const moments = this.encoderOut.apply(this.encoderNorm.apply(h, { silu: true }));
      const [mean, logVariance] = tf.split(moments, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      return { mean, logVariance: tf.clipByValue(logVariance, -30, 20) };
    });
  }

  /** z = μ + σ·ε with ε from a seeded rng (the reparameterisation trick: differentiable in μ, σ). */
  sampleLatent(distribution: LatentDistribution, rng: Rng): tf.Tensor4D {
    return tf.tidy(() => {
      const shape = distribution.mean.shape;
      const noise = tf.tensor(normalValues(distribution.mean.size, 1, rng), shape);
      const std = tf.exp(tf.mul(distribution.logVariance, 0.5));
      return tf.add(distribution.mean, tf.mul(std, noise)) as tf.Tensor4D;
    });
  }

  /** latents: [B, h, w, latentChannels] (unscaled) → images [B, H, W, imageChannels]. */
  decode(latents: tf.Tensor4D): tf.Tensor4D {
    if (latents.shape[3] !== this.config.latentChannels) {
      throw new Error(
        `autoencoder expects ${this.config.latentChannels} latent channels, got [${latents.shape}]`,
      );
    }
    return tf.tidy(() => {
      let h = this.decoderMid.apply(this.decoderIn.apply(latents));
      for (const level of this.decoderLevels) {
        for (const block of level.blocks) h = block.apply(h);
        if (level.up) h = level.up.apply(h);
      }
      return this.decoderOut.apply(this.decoderNorm.apply(h, { silu: true }));
    });
  }

  /** Images → scaled latents for diffusion (the mean, or a sample when an rng is given). */
  imagesToLatents(images: tf.Tensor4D, rng?: Rng): tf.Tensor4D {
    return tf.tidy(() => {
      const distribution = this.encode(images);
      const z = rng ? this.sampleLatent(distribution, rng) : distribution.mean;
      return tf.mul(z, this.config.scalingFactor) as tf.Tensor4D;
    });
  }

  /** Scaled latents from diffusion → images. */
  latentsToImages(latents: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.decode(tf.div(latents, this.config.scalingFactor) as tf.Tensor4D));
  }
}

/**
 * KL(N(μ, σ²) ‖ N(0, I)) per sample, summed over latent elements: ½ Σ (μ² + σ² − 1 − log σ²).
 * Returns [B]; training usually weights its mean by a small β (latent diffusion used 1e-6).
 */
export function klDivergence(distribution: LatentDistribution): tf.Tensor1D {
  return tf.tidy(() => {
    const { mean, logVariance } = distribution;
    const terms = tf.sub(tf.add(tf.square(mean), tf.exp(logVariance)), tf.add(logVariance, 1));
    return tf.mul(tf.sum(terms, [1, 2, 3]), 0.5) as tf.Tensor1D;
  });
}
