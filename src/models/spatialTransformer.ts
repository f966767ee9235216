/**
 * The UNet's attention stage (Stable Diffusion's Transformer2DModel, one block): GroupNorm,
 * project pixels to tokens, a transformer block whose cross-attention takes keys and values
 * from the text tokens, project back, add to the input.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { Linear } from "./linear";
import { Module } from "./module";
import { GroupNorm } from "./normalization";
import { TransformerBlock } from "./transformerBlock";

export interface SpatialTransformerOptions {
  channels: number;
  heads: number;
  contextDim: number;
  groups: number;
  selfAttention: boolean;
  /** Zero-init the output projection so the stage starts as the identity. */
  zeroInitOutput?: boolean;
}

export class SpatialTransformer extends Module {
  readonly norm: GroupNorm;
  readonly projectIn: Linear;
  readonly block: TransformerBlock;
  readonly projectOut: Linear;

  constructor(options: SpatialTransformerOptions, rng: Rng) {
    super();
    const { channels, heads, contextDim, groups, selfAttention } = options;
    this.norm = this.addModule("norm", new GroupNorm(groups, channels));
    this.projectIn = this.addModule("projectIn", new Linear(channels, channels, rng.fork("in")));
    this.block = this.addModule(
      "block",
      new TransformerBlock(
        { width: channels, heads, selfAttention, contextDim },
        rng.fork("block"),
      ),
    );
    this.projectOut = this.addModule(
      "projectOut",
      new Linear(channels, channels, rng.fork("out"), {
        zeroInit: options.zeroInitOutput ?? false,
      }),
    );
  }

  /** x: [B, H, W, C]; context: [B, M, contextDim]; contextMask: [B, M]. */
  apply(x: tf.Tensor4D, context: tf.Tensor3D, contextMask?: tf.Tensor2D): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    const tokens = this.projectIn
      .apply(this.norm.apply(x))
      .reshape([batch, height * width, channels]) as tf.Tensor3D;
    const mixed = this.block.apply(tokens, context, contextMask);
    const residual = x.reshape([batch, height * width, channels]);
    return this.projectOut.apply(mixed, residual).reshape(x.shape) as tf.Tensor4D;
  }
}
