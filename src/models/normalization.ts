/** LayerNorm (over the last axis) and GroupNorm (NHWC), with learned scale and shift. */
import * as tf from "@tensorflow/tfjs-core";
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
    const { mean, variance } = tf.moments(x, -1, true);
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(normalized, this.gamma), this.beta);
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

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    if (channels !== this.channels) {
      throw new Error(`GroupNorm expects ${this.channels} channels, got shape [${x.shape}]`);
    }
    const grouped = x.reshape([batch, height, width, this.groups, channels / this.groups]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalized = tf
      .mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon)))
      .reshape(x.shape);
    return tf.add(tf.mul(normalized, this.gamma), this.beta) as tf.Tensor4D;
  }
}
