/**
 * LayerNorm (over the last axis) and GroupNorm (NHWC), with learned scale and shift. Both run as
 * one fused kernel forward and one backward (backend/fusedKernels/fusedNorm.ts, on wasm, cpu and
 * WebGPU); GroupNorm can apply SiLU inside the same kernel. test/fusedKernels checks them
 * against autodiff through the composed ops.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedNorm } from "../backend/fusedKernels/fusedNormOp";
import { constantValues } from "./initializers";
import { Module } from "./module";

export class LayerNorm extends Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    readonly features: number,
    readonly epsilon = 1e-5,
  ) {
    super();
    this.gamma = this.addParameter("gamma", constantValues(features, 1), [features]);
    this.beta = this.addParameter("beta", constantValues(features, 0), [features]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.features) {
      throw new Error(`LayerNorm expects ${this.features} features, got shape [${x.shape}]`);
    }
    return fusedNorm(x, this.gamma, this.beta, {
      groups: 1,
      epsilon: this.epsilon,
      silu: false,
      batchDims: x.rank - 1,
    });
  }
}

export class GroupNorm extends Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly epsilon = 1e-5,
  ) {
    super();
    if (channels % groups !== 0) {
      throw new Error(`GroupNorm: ${channels} channels do not split into ${groups} groups`);
    }
    this.gamma = this.addParameter("gamma", constantValues(channels, 1), [channels]);
    this.beta = this.addParameter("beta", constantValues(channels, 0), [channels]);
  }

  /** GroupNorm(x), or SiLU(GroupNorm(x)) in the same kernel with `{ silu: true }`. */
  apply(x: tf.Tensor4D, options: { silu?: boolean } = {}): tf.Tensor4D {
    if (x.shape[3] !== this.channels) {
      throw new Error(`GroupNorm expects ${this.channels} channels, got shape [${x.shape}]`);
    }
    return fusedNorm(x, this.gamma, this.beta, {
      groups: this.groups,
      epsilon: this.epsilon,
      silu: options.silu === true,
      batchDims: 1,
    }) as tf.Tensor4D;
  }
}
