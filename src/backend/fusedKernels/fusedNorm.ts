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
 * Implementations: composedNorm.ts (wasm, cpu), webgpuKernels/fusedNorm.ts (WGSL).
 */

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
