/**
 * Text-conditioned UNet (the latent-diffusion denoiser): timestep embedding, residual blocks
 * with GroupNorm and timestep injection, spatial transformers with cross-attention on text
 * tokens at chosen levels, strided-conv downsampling, nearest ×2 upsampling, skip connections.
 * Layout follows diffusers' UNet2DConditionModel at a configurable (small) size.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng } from "../util/random";
import { Conv2d } from "./conv2d";
import { Module } from "./module";
import { GroupNorm } from "./normalization";
import { Downsample, Upsample } from "./resampling";
import { ResBlock } from "./resBlock";
import { SpatialTransformer } from "./spatialTransformer";
import { TimestepEmbedding } from "./timestepEmbedding";

export interface UNetConfig {
  /** Latent channels in and out (4 for the default autoencoder). */
  inChannels: number;
  outChannels: number;
  /** Latent height = width; must halve cleanly at every level. */
  sampleSize: number;
  /** Channels per resolution level; the map halves between levels. */
  blockChannels: number[];
  /** Residual blocks per level on the way down (one more on the way up). */
  layersPerBlock: number;
  /** Whether each level has spatial transformers (the middle block always has one). */
  attentionLevels: boolean[];
  heads: number;
  /** Width of the text tokens the cross-attention reads. */
  contextDim: number;
  normGroups: number;
  /** Self-attention over pixels inside each spatial transformer (besides cross-attention). */
  selfAttention: boolean;
  /** Zero-init the last conv of residual branches and transformer outputs (ADM); off for tests. */
  zeroInitResiduals: boolean;
}

/**
 * Small enough to train on a laptop CPU (wasm): 8×8×4 latents, levels 8×8/4×4/2×2 with
 * cross-attention at 4×4, 2×2 and the middle; ≈1.6 M parameters.
 */
export const DEFAULT_UNET_CONFIG: UNetConfig = {
  inChannels: 4,
  outChannels: 4,
  sampleSize: 8,
  blockChannels: [32, 64, 64],
  layersPerBlock: 1,
  attentionLevels: [false, true, true],
  heads: 4,
  contextDim: 64,
  normGroups: 8,
  selfAttention: true,
  zeroInitResiduals: true,
};

interface Level {
  resBlocks: ResBlock[];
  attentions: (SpatialTransformer | undefined)[];
  resample: Downsample | Upsample | undefined;
}

export function validateUNetConfig(config: UNetConfig): void {
  const { blockChannels, attentionLevels, sampleSize, normGroups, heads } = config;
  if (blockChannels.length === 0) throw new Error("UNet needs at least one level");
  if (attentionLevels.length !== blockChannels.length) {
    throw new Error(
      `attentionLevels has ${attentionLevels.length} entries for ${blockChannels.length} levels`,
    );
  }
  if (sampleSize % 2 ** (blockChannels.length - 1) !== 0) {
    throw new Error(`sampleSize ${sampleSize} does not halve ${blockChannels.length - 1} times`);
  }
  for (const channels of blockChannels) {
    if (channels % normGroups !== 0) throw new Error(`${channels} channels ∤ ${normGroups} groups`);
    if (channels % heads !== 0) throw new Error(`${channels} channels ∤ ${heads} heads`);
  }
  if (!Number.isInteger(config.layersPerBlock) || config.layersPerBlock < 1) {
    throw new Error(`layersPerBlock must be ≥ 1, got ${config.layersPerBlock}`);
  }
}

export class UNet extends Module {
  readonly config: UNetConfig;
  readonly timeEmbedDim: number;
  readonly timeEmbedding: TimestepEmbedding;
  readonly convIn: Conv2d;
  readonly down: Level[] = [];
  readonly midBlocks: [ResBlock, ResBlock];
  readonly midAttention: SpatialTransformer;
  readonly up: Level[] = [];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(config: Partial<UNetConfig> = {}, rngOrSeed: Rng | number = 0) {
    super();
    this.config = { ...DEFAULT_UNET_CONFIG, ...config };
    validateUNetConfig(this.config);
    const rng = typeof rngOrSeed === "number" ? createRng(rngOrSeed) : rngOrSeed;
    const c = this.config;
    const channels = c.blockChannels;
    const zero = c.zeroInitResiduals;
    this.timeEmbedDim = channels[0] * 4;
    this.timeEmbedding = this.addModule(
      "time",
      new TimestepEmbedding(channels[0], this.timeEmbedDim, rng.fork("time")),
    );
    this.convIn = this.addModule(
      "convIn",
      new Conv2d(c.inChannels, channels[0], rng.fork("convIn")),
    );

    const res = (name: string, inChannels: number, outChannels: number, r: Rng) =>
      new ResBlock(
        {
          inChannels,
          outChannels,
          groups: c.normGroups,
          timeEmbedDim: this.timeEmbedDim,
          zeroInitResidual: zero,
        },
        r.fork(name),
      );
    const attention = (channelsHere: number, r: Rng) =>
      new SpatialTransformer(
        {
          channels: channelsHere,
          heads: c.heads,
          contextDim: c.contextDim,
          groups: c.normGroups,
          selfAttention: c.selfAttention,
          zeroInitOutput: zero,
        },
        r,
      );

    // Down path; skipChannels records the width of every tensor pushed for the up path.
    const skipChannels = [channels[0]];
    let width = channels[0];
    channels.forEach((levelChannels, i) => {
      const r = rng.fork(`down${i}`);
      const level = this.addLevel(this.down);
      for (let j = 0; j < c.layersPerBlock; j++) {
        level.resBlocks.push(
          this.addModule(`down${i}_res${j}`, res(`res${j}`, width, levelChannels, r)),
        );
        width = levelChannels;
        level.attentions.push(
          c.attentionLevels[i]
            ? this.addModule(`down${i}_attn${j}`, attention(width, r.fork(`attn${j}`)))
            : undefined,
        );
        skipChannels.push(width);
      }
      if (i < channels.length - 1) {
        level.resample = this.addModule(
          `down${i}_downsample`,
          new Downsample(width, r.fork("downsample")),
        );
        skipChannels.push(width);
      }
    });

    const rMid = rng.fork("mid");
    this.midBlocks = [
      this.addModule("mid_res0", res("res0", width, width, rMid)),
      this.addModule("mid_res1", res("res1", width, width, rMid)),
    ];
    this.midAttention = this.addModule("mid_attn", attention(width, rMid.fork("attn")));

    for (let i = channels.length - 1; i >= 0; i--) {
      const r = rng.fork(`up${i}`);
      const level = this.addLevel(this.up);
      for (let j = 0; j <= c.layersPerBlock; j++) {
        const skip = skipChannels.pop() as number;
        level.resBlocks.push(
          this.addModule(`up${i}_res${j}`, res(`res${j}`, width + skip, channels[i], r)),
        );
        width = channels[i];
        level.attentions.push(
          c.attentionLevels[i]
            ? this.addModule(`up${i}_attn${j}`, attention(width, r.fork(`attn${j}`)))
            : undefined,
        );
      }
      if (i > 0)
        level.resample = this.addModule(`up${i}_upsample`, new Upsample(width, r.fork("upsample")));
    }

    this.normOut = this.addModule("normOut", new GroupNorm(c.normGroups, width));
    this.convOut = this.addModule(
      "convOut",
      new Conv2d(width, c.outChannels, rng.fork("convOut"), { zeroInit: zero }),
    );
  }

  /**
   * Predicts the network output (ε, v or x₀ — the scheduler's choice) for latents at timesteps.
   * sample: [B, H, W, inChannels]; timesteps: [B], or a number or a [1] tensor for all (a tensor
   * keeps a replayed step's timestep an input: kernelReplay.ts); context: [B, M, contextDim]
   * text tokens; contextMask: [B, M] (1 real, 0 padding). Returns [B, H, W, outChannels].
   */
  apply(
    sample: tf.Tensor4D,
    timesteps: tf.Tensor1D | number | ArrayLike<number>,
    context: tf.Tensor3D,
    contextMask?: tf.Tensor2D,
  ): tf.Tensor4D {
    const [batch, height, width, channels] = sample.shape;
    if (channels !== this.config.inChannels) {
      throw new Error(
        `UNet expects ${this.config.inChannels} latent channels, got [${sample.shape}]`,
      );
    }
    const levels = this.config.blockChannels.length;
    if (height % 2 ** (levels - 1) !== 0 || width % 2 ** (levels - 1) !== 0) {
      throw new Error(`latent ${height}×${width} does not halve ${levels - 1} times`);
    }
    if (context.shape[0] !== batch || context.shape[2] !== this.config.contextDim) {
      throw new Error(
        `context shape [${context.shape}] ≠ [${batch}, M, ${this.config.contextDim}]`,
      );
    }
    return tf.tidy(() => {
      const t = this.timestepTensor(timesteps, batch);
      const temb = this.timeEmbedding.apply(t);
      let h = this.convIn.apply(sample);
      const skips: tf.Tensor4D[] = [h];
      for (const level of this.down) {
        level.resBlocks.forEach((block, j) => {
          h = block.apply(h, temb);
          const attention = level.attentions[j];
          if (attention) h = attention.apply(h, context, contextMask);
          skips.push(h);
        });
        if (level.resample) {
          h = level.resample.apply(h);
          skips.push(h);
        }
      }
      h = this.midBlocks[0].apply(h, temb);
      h = this.midAttention.apply(h, context, contextMask);
      h = this.midBlocks[1].apply(h, temb);
      for (const level of this.up) {
        level.resBlocks.forEach((block, j) => {
          h = block.apply(tf.concat([h, skips.pop() as tf.Tensor4D], 3), temb);
          const attention = level.attentions[j];
          if (attention) h = attention.apply(h, context, contextMask);
        });
        if (level.resample) h = level.resample.apply(h);
      }
      return this.convOut.apply(this.normOut.apply(h, { silu: true }));
    });
  }

  private addLevel(list: Level[]): Level {
    const level: Level = { resBlocks: [], attentions: [], resample: undefined };
    list.push(level);
    return level;
  }

  private timestepTensor(
    timesteps: tf.Tensor1D | number | ArrayLike<number>,
    batch: number,
  ): tf.Tensor1D {
    if (timesteps instanceof tf.Tensor) {
      if (timesteps.size === 1 && batch !== 1) {
        return tf.broadcastTo(tf.reshape(timesteps.toFloat(), [1]), [batch]) as tf.Tensor1D;
      }
      if (timesteps.size !== batch)
        throw new Error(`${timesteps.size} timesteps for a batch of ${batch}`);
      return timesteps.toFloat();
    }
    if (typeof timesteps === "number") return tf.fill([batch], timesteps) as tf.Tensor1D;
    if (timesteps.length !== batch)
      throw new Error(`${timesteps.length} timesteps for a batch of ${batch}`);
    return tf.tensor1d(Array.from(timesteps), "float32");
  }
}
