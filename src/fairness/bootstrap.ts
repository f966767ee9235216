/**
 * Seeded percentile bootstrap over images: resample the n images with replacement, recompute the
 * statistic, take the (1−level)/2 and (1+level)/2 quantiles of the replicates. Deterministic for
 * a given seed (the draws come from `createRng`).
 */
import { createRng, type Rng } from "../util/random";
import type { Interval } from "./interval";
import { assertLevel, assertPositiveInteger } from "./validation";

export interface BootstrapOptions {
  seed: number;
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

export const DEFAULT_RESAMPLES = 2000;

// Captured once: under jest's vm sandbox a global lookup inside this hot loop costs ~40×.
const floor = Math.floor;

/** Fills `out` with n indices drawn uniformly with replacement from [0, n). */
export function resampleIndices(rng: Rng, n: number, out = new Int32Array(n)): Int32Array {
  for (let i = 0; i < n; i++) out[i] = floor(rng.next() * n);
  return out;
}

/**
 * Percentile intervals for a vector-valued statistic of n images. `statistic(indices)` gets the
 * image indices of one resample (the identity for the point estimate) and returns one value per
 * output; an output whose replicate is NaN (e.g. a group missing from a resample) keeps only its
 * finite replicates.
 */
export function percentileBootstrapVector(
  n: number,
  statistic: (indices: Int32Array) => ArrayLike<number>,
  options: BootstrapOptions,
): Interval[] {
  assertPositiveInteger(n, "bootstrap sample size n");
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  assertPositiveInteger(resamples, "resamples");
  const level = options.level ?? 0.95;
  assertLevel(level);
  const identity = Int32Array.from({ length: n }, (_, i) => i);
  const estimate = Array.from(statistic(identity));
  const replicates = estimate.map(() => new Float64Array(resamples));
  const rng = createRng(options.seed);
  const indices = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    const values = statistic(resampleIndices(rng, n, indices));
    for (let j = 0; j < estimate.length; j++) replicates[j][b] = values[j];
  }
  return estimate.map((value, j) => {
    const finite = replicates[j].filter((v) => Number.isFinite(v)).sort();
    return {
      estimate: value,
      lower: quantileOfSorted(finite, (1 - level) / 2),
      upper: quantileOfSorted(finite, (1 + level) / 2),
      level,
      n,
      method: "percentile-bootstrap",
      resamples,
      seed: options.seed,
    };
  });
}

/** Percentile interval for a scalar statistic of n images. */
export function percentileBootstrap(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions,
): Interval {
  return percentileBootstrapVector(n, (indices) => [statistic(indices)], options)[0];
}

/** Linear-interpolation quantile (type 7, numpy's default) of ascending values. */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** Proportions of each of k groups among the images at `indices`. */
export function groupProportions(
  labels: ArrayLike<number>,
  k: number,
  indices?: ArrayLike<number>,
): Float64Array {
  const counts = new Float64Array(k);
  const m = indices ? indices.length : labels.length;
  for (let i = 0; i < m; i++) counts[labels[indices ? indices[i] : i]] += 1;
  for (let g = 0; g < k; g++) counts[g] /= m;
  return counts;
}

/** Checks that labels are integers in [0, k). */
export function assertGroupLabels(labels: ArrayLike<number>, k: number, name = "labels"): void {
  assertPositiveInteger(k, "group count k");
  if (labels.length === 0) throw new Error(`${name} is empty`);
  for (let i = 0; i < labels.length; i++) {
    const g = labels[i];
    if (!Number.isInteger(g) || g < 0 || g >= k) {
      throw new Error(`${name}[${i}] = ${g} is not a group index in [0, ${k})`);
    }
  }
}

/** Percentile bootstrap intervals for each group's proportion among labelled images. */
export function groupProportionIntervals(
  labels: ArrayLike<number>,
  k: number,
  options: BootstrapOptions,
): Interval[] {
  assertGroupLabels(labels, k);
  return percentileBootstrapVector(
    labels.length,
    (indices) => groupProportions(labels, k, indices),
    options,
  );
}

/**
 * Percentile interval for any metric of the group proportions (bias, total variation, KL…),
 * resampling the labelled images.
 */
export function bootstrapProportionMetric(
  labels: ArrayLike<number>,
  k: number,
  metric: (frequencies: Float64Array) => number,
  options: BootstrapOptions,
): Interval {
  assertGroupLabels(labels, k);
  return percentileBootstrap(
    labels.length,
    (indices) => metric(groupProportions(labels, k, indices)),
    options,
  );
}
