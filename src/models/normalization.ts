/**
 * LayerNorm (over the last axis) and GroupNorm (NHWC), with learned scale and shift. Both use
 * one normalisation op with the closed-form backward
 *   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),  g = dy·γ,
 * (means over the normalised axes) instead of autodiff through mean/variance: far fewer
 * kernels per step. test/models/fusedGradients.test.ts checks it against autodiff.
 */
import * as tf from "@tensorflow/tfjs-core";
import { constantValues } from "./initializers";
import { Module } from "./module";

/**
 * x̂·γ + β where x̂ normalises `grouped` over `axes`; `grouped` is x reshaped so that the
 * normalised axes are separate, `shape` is x's shape, γ and β broadcast against x.
 */
function normalizeOp(axes: number[], epsilon: number, shape: number[], groupedShape: number[]) {
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta, save] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const grouped = x.reshape(groupedShape);
    const { mean, variance } = tf.moments(grouped, axes, true);
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(grouped, mean), rstd);
    save([normalized, rstd, gamma]);
    return {
      value: tf.add(tf.mul(normalized.reshape(shape), gamma), beta),
      gradFunc: (dy: tf.Tensor, [xHat, savedRstd, savedGamma]: tf.Tensor[]) => {
        const parameterAxes = shape.slice(0, -1).map((_, i) => i);
        const dGamma = tf.sum(tf.mul(dy, xHat.reshape(shape)), parameterAxes);
        const dBeta = tf.sum(dy, parameterAxes);
        const g = tf.mul(dy, savedGamma).reshape(groupedShape);
        const centered = tf.sub(g, tf.mean(g, axes, true));
        const projection = tf.mul(xHat, tf.mean(tf.mul(g, xHat), axes, true));
        const dx = tf.mul(tf.sub(centered, projection), savedRstd).reshape(shape);
        return [dx, dGamma, dBeta];
      },
    };
  });
}

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
    const rows = x.size / this.features;
    const op = normalizeOp([1], this.epsilon, [rows, this.features], [rows, this.features]);
    return (op(x.reshape([rows, this.features]), this.gamma, this.beta) as tf.Tensor).reshape(
      x.shape,
    );
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
    const grouped = [batch, height, width, this.groups, channels / this.groups];
    const op = normalizeOp([1, 2, 4], this.epsilon, x.shape, grouped);
    return op(x, this.gamma, this.beta) as tf.Tensor4D;
  }
}
