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

/**
 * Mean and rstd of every group of one row: two passes over the row in memory order (float64
 * sums; position, then group, then the group's channels, so the inner loop is contiguous).
 */
function rowStatistics(
  x: Float32Array,
  l: NormLayout,
  start: number,
  epsilon: number,
  mean: Float64Array,
  rstd: Float64Array,
): void {
  const { spatial, groups, perGroup } = l;
  const count = spatial * perGroup;
  mean.fill(0);
  rstd.fill(0);
  for (let s = 0, i = start; s < spatial; s++) {
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      for (let end = i + perGroup; i < end; i++) sum += x[i];
      mean[g] += sum;
    }
  }
  for (let g = 0; g < groups; g++) mean[g] /= count;
  for (let s = 0, i = start; s < spatial; s++) {
    for (let g = 0; g < groups; g++) {
      const m = mean[g];
      let squares = 0;
      for (let end = i + perGroup; i < end; i++) squares += (x[i] - m) * (x[i] - m);
      rstd[g] += squares;
    }
  }
  for (let g = 0; g < groups; g++) rstd[g] = 1 / Math.sqrt(rstd[g] / count + epsilon);
}

/** Inputs x, gamma, beta; output y (x's shape). */
export const fusedNormHost: HostKernel<NormAttrs> = {
  name: FUSED_NORM,
  outputShapes: (inputs: TensorInfo[]) => [inputs[0].shape],
  compute([x, gamma, beta], [y], [shape], attrs) {
    const l = normLayout(shape, attrs);
    const { rows, spatial, groups, perGroup } = l;
    const silu = attrs.silu;
    const mean = new Float64Array(groups);
    const rstd = new Float64Array(groups);
    for (let row = 0, i = 0; row < rows; row++) {
      rowStatistics(x, l, i, attrs.epsilon, mean, rstd);
      for (let s = 0; s < spatial; s++) {
        for (let g = 0, c = 0; g < groups; g++) {
          const m = mean[g];
          const r = rstd[g];
          for (let k = 0; k < perGroup; k++, c++, i++) {
            const a = (x[i] - m) * r * gamma[c] + beta[c];
            y[i] = silu ? a / (1 + Math.exp(-a)) : a;
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
    const { rows, spatial, groups, perGroup, channels } = l;
    const silu = attrs.silu;
    const mean = new Float64Array(groups);
    const rstd = new Float64Array(groups);
    const meanG = new Float64Array(groups);
    const meanGX = new Float64Array(groups);
    const gammaSum = new Float64Array(channels);
    const betaSum = new Float64Array(channels);
    const count = spatial * perGroup;
    const rowSize = spatial * channels;
    for (let row = 0; row < rows; row++) {
      const start = row * rowSize;
      rowStatistics(x, l, start, attrs.epsilon, mean, rstd);
      meanG.fill(0);
      meanGX.fill(0);
      // Pass 1: da (kept in dx for now), the parameter sums, the sums of g and g·x̂.
      for (let s = 0, i = start; s < spatial; s++) {
        for (let g = 0, c = 0; g < groups; g++) {
          const m = mean[g];
          const r = rstd[g];
          let sumG = 0;
          let sumGX = 0;
          for (let k = 0; k < perGroup; k++, c++, i++) {
            const xHat = (x[i] - m) * r;
            let d = dy[i];
            if (silu) {
              const a = xHat * gamma[c] + beta[c];
              const sa = 1 / (1 + Math.exp(-a));
              d *= sa * (1 + a * (1 - sa));
            }
            dx[i] = d;
            betaSum[c] += d;
            gammaSum[c] += d * xHat;
            const gradient = d * gamma[c];
            sumG += gradient;
            sumGX += gradient * xHat;
          }
          meanG[g] += sumG;
          meanGX[g] += sumGX;
        }
      }
      for (let g = 0; g < groups; g++) {
        meanG[g] /= count;
        meanGX[g] /= count;
      }
      // Pass 2: dx from da.
      for (let s = 0, i = start; s < spatial; s++) {
        for (let g = 0, c = 0; g < groups; g++) {
          const m = mean[g];
          const r = rstd[g];
          const mg = meanG[g];
          const mgx = meanGX[g];
          for (let k = 0; k < perGroup; k++, c++, i++) {
            const xHat = (x[i] - m) * r;
            dx[i] = r * (dx[i] * gamma[c] - mg - xHat * mgx);
          }
        }
      }
    }
    dGamma.set(gammaSum);
    dBeta.set(betaSum);
  },
};
