/** A 2-D convolution over NHWC input with "same" padding (kernel [k, k, in, out] and bias). */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { constantValues, fanInUniform } from "./initializers";
import { Module } from "./module";
import { fusedConv2d, type ConvAddition } from "../backend/fusedKernels/fusedConv2d";

export interface Conv2dOptions {
  kernelSize?: number;
  stride?: number;
  zeroInit?: boolean;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(inChannels: number, outChannels: number, rng: Rng, options: Conv2dOptions = {}) {
    super();
    const { kernelSize = 3, stride = 1, zeroInit = false } = options;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = stride;
    const fanIn = kernelSize * kernelSize * inChannels;
    const count = fanIn * outChannels;
    this.kernel = this.addParameter(
      "kernel",
      zeroInit ? constantValues(count, 0) : fanInUniform(count, fanIn, rng),
      [kernelSize, kernelSize, inChannels, outChannels],
    );
    this.bias = this.addParameter(
      "bias",
      zeroInit ? constantValues(outChannels, 0) : fanInUniform(outChannels, fanIn, rng),
      [outChannels],
    );
  }

  /**
   * x [B, H, W, in]; `addition.shift` [B, out] is added at every position, `addition.residual`
   * (the output's shape) elementwise, both inside the convolution's kernel.
   */
  apply(x: tf.Tensor4D, addition: ConvAddition = {}): tf.Tensor4D {
    if (x.shape[3] !== this.inChannels) {
      throw new Error(`Conv2d expects ${this.inChannels} channels, got shape [${x.shape}]`);
    }
    return fusedConv2d(x, this.kernel, this.bias, this.stride, addition) as tf.Tensor4D;
  }
}
