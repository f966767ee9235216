/**
 * Residual block: GroupNorm → SiLU → conv → (+ projected timestep embedding) → GroupNorm →
 * SiLU → conv, plus a 1×1 conv skip when the width changes. Without a timestep width it is the
 * autoencoder's plain residual block.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { silu } from "./activations";
import { Conv2d } from "./conv2d";
import { Linear } from "./linear";
import { Module } from "./module";
import { GroupNorm } from "./normalization";

export interface ResBlockOptions {
  inChannels: number;
  outChannels: number;
  groups: number;
  /** Width of the timestep embedding to inject; 0 for none. */
  timeEmbedDim?: number;
  /** Zero-init the second conv so the block starts as its skip path (ADM's choice). */
  zeroInitResidual?: boolean;
}

export class ResBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly timeProjection: Linear | undefined;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | undefined;

  constructor(options: ResBlockOptions, rng: Rng) {
    super();
    const { inChannels, outChannels, groups, timeEmbedDim = 0 } = options;
    this.norm1 = this.addModule("norm1", new GroupNorm(groups, inChannels));
    this.conv1 = this.addModule("conv1", new Conv2d(inChannels, outChannels, rng.fork("conv1")));
    if (timeEmbedDim > 0) {
      this.timeProjection = this.addModule(
        "time",
        new Linear(timeEmbedDim, outChannels, rng.fork("time")),
      );
    }
    this.norm2 = this.addModule("norm2", new GroupNorm(groups, outChannels));
    this.conv2 = this.addModule(
      "conv2",
      new Conv2d(outChannels, outChannels, rng.fork("conv2"), {
        zeroInit: options.zeroInitResidual ?? false,
      }),
    );
    if (inChannels !== outChannels) {
      this.skip = this.addModule(
        "skip",
        new Conv2d(inChannels, outChannels, rng.fork("skip"), { kernelSize: 1 }),
      );
    }
  }

  /** x: [B, H, W, in]; timeEmbedding: [B, timeEmbedDim] when the block injects time. */
  apply(x: tf.Tensor4D, timeEmbedding?: tf.Tensor2D): tf.Tensor4D {
    let shift: tf.Tensor2D | undefined;
    if (this.timeProjection) {
      if (!timeEmbedding) throw new Error("this ResBlock needs a timestep embedding");
      shift = this.timeProjection.apply(silu(timeEmbedding)) as tf.Tensor2D;
    }
    // The time shift and the skip join inside the convolutions' kernels (conv2d.ts).
    const h = this.conv1.apply(this.norm1.apply(x, { silu: true }), { shift });
    const skip = this.skip ? this.skip.apply(x) : x;
    return this.conv2.apply(this.norm2.apply(h, { silu: true }), { residual: skip });
  }
}
