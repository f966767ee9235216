/**
 * Group normalisation (GroupNorm over NHWC, LayerNorm over the last axis) with learned scale and
 * shift and an optional SiLU after it, as one forward kernel and one backward kernel.
 *
 * Layout: x is [rows, spatial, channels] once flattened, where `rows` is the product of the first
 * `batchDims` dimensions, `channels` the last dimension, `spatial` the rest; the statistics run
 * over (spatial × channels/groups) for each (row, group). GroupNorm: batchDims 1; LayerNorm:
 * batchDims rank − 1, groups 1.
 *
 *   forward:  x̂ = (x − μ)·rstd,  a = x̂·γ + β,  y = a (or a·σ(a) with silu)
 *   backward: da = dy (or dy·σ(a)(1 + a(1 − σ(a)))),  dβ = Σ da,  dγ = Σ da·x̂,
 *             g = da·γ,  dx = rstd·(g − mean(g) − x̂·mean(g·x̂))   (means over the group)
 * The backward kernel recomputes μ and rstd from x, so the forward saves only its inputs.
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostKernel } from "./hostKernel";

export const FUSED_NORM = "FairdiffFusedNorm";
export const FUSED_NORM_GRAD = "FairdiffFusedNormGrad";

export interface NormAttrs {
  groups: number;
  epsilon: number;
  /** Apply SiLU to the normalised, scaled and shifted value. */
  silu: boolean;
  /** How many leading dimensions form the rows (each row normalised on its own). */
  batchDims: number;
}

export interface NormLayout {
  rows: number;
  spatial: number;
  channels: number;
  groups: number;
  /** channels / groups */
  perGroup: number;
}

export function normLayout(shape: readonly number[], attrs: NormAttrs): NormLayout {
  if (attrs.batchDims < 0 || attrs.batchDims >= shape.length) {
    throw new Error(`fused norm: batchDims ${attrs.batchDims} does not fit shape [${shape}]`);
  }
  const channels = shape[shape.length - 1];
  if (!Number.isInteger(attrs.groups) || attrs.groups < 1 || channels % attrs.groups !== 0) {
    throw new Error(`fused norm: ${channels} channels do not split into ${attrs.groups} groups`);
  }
  const rows = shape.slice(0, attrs.batchDims).reduce((n, d) => n * d, 1);
  const spatial = shape.slice(attrs.batchDims, -1).reduce((n, d) => n * d, 1);
  return { rows, spatial, channels, groups: attrs.groups, perGroup: channels / attrs.groups };
}

/** Mean and rstd of one (row, group), two-pass in float64. */
function groupStatistics(x: Float32Array, l: NormLayout, row: number, group: number, eps: number) {
  const base = row * l.spatial * l.channels + group * l.perGroup;
  const count = l.spatial * l.perGroup;
  let sum = 0;
  for (let s = 0; s < l.spatial; s++) {
    const offset = base + s * l.channels;
    for (let c = 0; c < l.perGroup; c++) sum += x[offset + c];
  }
  const mean = sum / count;
  let squares = 0;
  for (let s = 0; s < l.spatial; s++) {
    const offset = base + s * l.channels;
    for (let c = 0; c < l.perGroup; c++) {
      const d = x[offset + c] - mean;
      squares += d * d;
    }
  }
  return { base, count, mean, rstd: 1 / Math.sqrt(squares / count + eps) };
}

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

/** Inputs x, gamma, beta; output y (x's shape). */
export const fusedNormHost: HostKernel<NormAttrs> = {
  name: FUSED_NORM,
  outputShapes: (inputs: TensorInfo[]) => [inputs[0].shape],
  compute([x, gamma, beta], [y], [shape], attrs) {
    const l = normLayout(shape, attrs);
    for (let row = 0; row < l.rows; row++) {
      for (let group = 0; group < l.groups; group++) {
        const { base, mean, rstd } = groupStatistics(x, l, row, group, attrs.epsilon);
        for (let s = 0; s < l.spatial; s++) {
          const offset = base + s * l.channels;
          for (let c = 0; c < l.perGroup; c++) {
            const channel = group * l.perGroup + c;
            const a = (x[offset + c] - mean) * rstd * gamma[channel] + beta[channel];
            y[offset + c] = attrs.silu ? a * sigmoid(a) : a;
          }
        }
      }
    }
  },
};

/** Inputs dy, x, gamma, beta; outputs dx, dgamma, dbeta. */
export const fusedNormGradHost: HostKernel<NormAttrs> = {
  name: FUSED_NORM_GRAD,
  outputShapes: (inputs: TensorInfo[]) => [inputs[1].shape, inputs[2].shape, inputs[3].shape],
  compute([dy, x, gamma, beta], [dx, dGamma, dBeta], shapes, attrs) {
    const l = normLayout(shapes[1], attrs);
    const gammaSum = new Float64Array(l.channels);
    const betaSum = new Float64Array(l.channels);
    const da = new Float64Array(l.spatial * l.perGroup);
    for (let row = 0; row < l.rows; row++) {
      for (let group = 0; group < l.groups; group++) {
        const { base, count, mean, rstd } = groupStatistics(x, l, row, group, attrs.epsilon);
        // Pass 1: da, the parameter sums, and the group means of g and g·x̂.
        let sumG = 0;
        let sumGX = 0;
        for (let s = 0; s < l.spatial; s++) {
          const offset = base + s * l.channels;
          for (let c = 0; c < l.perGroup; c++) {
            const channel = group * l.perGroup + c;
            const xHat = (x[offset + c] - mean) * rstd;
            let d = dy[offset + c];
            if (attrs.silu) {
              const a = xHat * gamma[channel] + beta[channel];
              const sa = sigmoid(a);
              d *= sa * (1 + a * (1 - sa));
            }
            da[s * l.perGroup + c] = d;
            betaSum[channel] += d;
            gammaSum[channel] += d * xHat;
            const g = d * gamma[channel];
            sumG += g;
            sumGX += g * xHat;
          }
        }
        const meanG = sumG / count;
        const meanGX = sumGX / count;
        // Pass 2: dx.
        for (let s = 0; s < l.spatial; s++) {
          const offset = base + s * l.channels;
          for (let c = 0; c < l.perGroup; c++) {
            const channel = group * l.perGroup + c;
            const xHat = (x[offset + c] - mean) * rstd;
            const g = da[s * l.perGroup + c] * gamma[channel];
            dx[offset + c] = rstd * (g - meanG - xHat * meanGX);
          }
        }
      }
    }
    dGamma.set(gammaSum);
    dBeta.set(betaSum);
  },
};
