/**
 * Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the squared maximum
 * mean discrepancy between generated features x and real features y under the cubic polynomial
 * kernel k(a, b) = (aᵀb / d + 1)³, d = feature dimension, estimated without bias:
 *
 *   KID = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i, y_j) − 2/(mn) Σ_{i,j} k(x_i, y_j)
 *
 * over all m generated and n real rows, accumulated in float64. It is not clamped: with no
 * difference between the two sets its expectation is 0, so it is negative about half the time.
 * Unlike FID it carries no small-sample bias, so groups of different sizes compare fairly.
 *
 * Bińkowski et al. average this estimator over random subsets of a fixed size. The estimator is a
 * U-statistic, and a U-statistic equals the average of the same estimator over all subsets of any
 * fixed size (each pair is in the same share of them), so the value here is that average taken
 * exactly rather than over a sample of subsets.
 *
 * Interval, by half-sampling (subsampling without replacement): S seeded subsets, each of ⌊m/2⌋
 * generated and ⌊n/2⌋ real rows, give KID_s; with δ_s = KID_s − KID the interval is
 * [KID − q_{(1+L)/2}(δ), KID − q_{(1−L)/2}(δ)]. Why halves: KID is the mean of KID_s over all
 * half-samples, so Cov(KID_s, KID) = Var(KID), and a half-sample's variance is twice the full
 * sample's (variance ∝ 1/n), so Var(KID_s − KID) = 2V − 2V + V = Var(KID): δ has the spread of
 * KID's own error. When the two sets do not differ, the estimator's leading term vanishes and its
 * variance goes as 1/n², so half-samples spread more (Var δ ≈ 3 Var KID) and the interval is
 * conservative there (wider than needed), never too narrow.
 *
 * Cost and memory: the three kernel matrices (generated × generated, real × real, generated ×
 * real) are built once, one block of rows at a time (at most BLOCK_ENTRIES entries, 32 MiB),
 * never held whole; each block, as it is built, adds to the full sums and to every subset's sums
 * (a row adds its entries at that subset's columns for each subset it belongs to). So every dot
 * product is computed once, whatever S is; memory is one block plus the gathered rows and the
 * S × (m + n)/2 subset indices; time is O((m + n)² d) for the kernels plus O(S (m + n)² / 4) for
 * the subsets.
 */
import { createRng } from "../util/random";
import { quantileOfSorted } from "./bootstrap";
import { multiplyByTranspose } from "./denseProducts";
import { gatherRows, type FeatureMatrix } from "./featureMatrix";
import type { Interval } from "./interval";
import { assertLevel, assertPositiveInteger } from "./validation";

// Captured once: under jest's vm sandbox a global lookup inside a hot loop costs ~40×.
const floor = Math.floor;
const min = Math.min;

/** Half-samples behind a KID interval unless told otherwise. */
export const DEFAULT_KID_SUBSETS = 100;

/** Most kernel entries held at once (one block of rows): 2²² float64 = 32 MiB. */
const BLOCK_ENTRIES = 1 << 22;

export interface KidIntervalOptions {
  /** Half-samples (default 100). */
  subsets?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  seed: number;
}

export interface KidEstimate {
  /** Unbiased MMD² with the cubic polynomial kernel; may be negative. */
  value: number;
  nGenerated: number;
  nReal: number;
  /** Half-sampling interval, when asked for. */
  interval?: Interval;
}

/** Rows of each of S subsets of one side, and for each row the subsets that hold it. */
interface Subsets {
  count: number;
  size: number;
  /** count × size row positions (into the gathered rows), each subset's sorted. */
  members: Int32Array;
  /** CSR: the subsets holding row r are holders[holdersStart[r] … holdersStart[r + 1]). */
  holdersStart: Int32Array;
  holders: Int32Array;
}

/** S seeded subsets of `size` of `rows` rows, drawn without replacement (partial Fisher–Yates). */
function drawSubsets(rows: number, size: number, count: number, next: () => number): Subsets {
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const members = new Int32Array(count * size);
  const perRow = new Int32Array(rows);
  for (let s = 0; s < count; s++) {
    for (let t = 0; t < size; t++) {
      const pick = t + floor(next() * (rows - t));
      const kept = order[pick];
      order[pick] = order[t];
      order[t] = kept;
    }
    // Sorted columns keep the gathers from a kernel row in memory order.
    const subset = members.subarray(s * size, (s + 1) * size);
    subset.set(order.subarray(0, size));
    subset.sort();
    for (let t = 0; t < size; t++) perRow[subset[t]] += 1;
  }
  const holdersStart = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) holdersStart[r + 1] = holdersStart[r] + perRow[r];
  const holders = new Int32Array(count * size);
  const filled = holdersStart.slice(0, rows);
  for (let s = 0; s < count; s++) {
    for (let t = 0; t < size; t++) holders[filled[members[s * size + t]]++] = s;
  }
  return { count, size, members, holdersStart, holders };
}

interface KernelSums {
  /** Σ over every entry (Σ_{i≠j} for a self-kernel). */
  total: number;
  /** Per subset: Σ over its rows × its columns (off-diagonal only for a self-kernel). */
  subsets: Float64Array;
}

/**
 * Sums of the kernel matrix k(left_i, right_j), built one block of left rows at a time. `self`:
 * left and right are the same rows (the diagonal is left out of every sum). Subset s pairs
 * leftSubsets' s-th subset (rows) with rightSubsets' s-th subset (columns).
 */
function kernelSums(
  left: Float64Array,
  right: Float64Array,
  d: number,
  self: boolean,
  leftSubsets?: Subsets,
  rightSubsets?: Subsets,
): KernelSums {
  const p = left.length / d;
  const q = right.length / d;
  const blockRows = Math.max(1, min(p, floor(BLOCK_ENTRIES / q)));
  const block = new Float64Array(blockRows * q);
  const subsetSums = new Float64Array(leftSubsets?.count ?? 0);
  let total = 0;
  for (let start = 0; start < p; start += blockRows) {
    const rows = min(blockRows, p - start);
    multiplyByTranspose(left.subarray(start * d, (start + rows) * d), right, block, {
      rows,
      cols: q,
      depth: d,
    });
    for (let r = 0; r < rows; r++) {
      const offset = r * q;
      let rowSum = 0;
      for (let j = 0; j < q; j++) {
        const base = block[offset + j] / d + 1;
        const value = base * base * base;
        block[offset + j] = value;
        rowSum += value;
      }
      const diagonal = self ? block[offset + start + r] : 0;
      total += rowSum - diagonal;
      if (!leftSubsets || !rightSubsets) continue;
      const { holdersStart, holders } = leftSubsets;
      const { members, size } = rightSubsets;
      const row = start + r;
      for (let h = holdersStart[row]; h < holdersStart[row + 1]; h++) {
        const s = holders[h];
        let sum = 0;
        for (let t = s * size, end = t + size; t < end; t++) sum += block[offset + members[t]];
        // Row `row` is in subset s, so for a self-kernel its diagonal entry is in that sum.
        subsetSums[s] += sum - diagonal;
      }
    }
  }
  return { total, subsets: subsetSums };
}

function unbiasedMmd2(
  generated: number,
  real: number,
  cross: number,
  m: number,
  n: number,
): number {
  return generated / (m * (m - 1)) + real / (n * (n - 1)) - (2 * cross) / (m * n);
}

function checkSides(generated: FeatureMatrix, m: number, real: FeatureMatrix, n: number): void {
  if (real.dimension !== generated.dimension) {
    throw new Error(
      `KID needs one feature dimension: generated features have ${generated.dimension}, real features ${real.dimension}`,
    );
  }
  if (m < 2) throw new Error(`KID needs at least 2 generated rows, got ${m}`);
  if (n < 2) throw new Error(`KID needs at least 2 real rows, got ${n}`);
}

function checkHalfSampling(subsets: number, seed: number, m: number, n: number): void {
  assertPositiveInteger(subsets, "KID interval subsets");
  if (!Number.isInteger(seed)) {
    throw new Error(`KID interval seed must be an integer, got ${String(seed)}`);
  }
  for (const [side, count] of [
    ["generated", m],
    ["real", n],
  ] as const) {
    if (count < 4) {
      throw new Error(
        `a KID interval needs at least 4 ${side} rows (half-samples of at least 2), got ${count}`,
      );
    }
  }
}

/** KID over all rows and over each of S seeded half-samples, from one pass over the kernels. */
export interface KidHalfSamples {
  value: number;
  /** Per half-sample: its generated rows and real rows (indices as given), and its KID. */
  generatedRows: Int32Array[];
  realRows: Int32Array[];
  values: Float64Array;
}

function rowsOf(subsets: Subsets, s: number, rows: ArrayLike<number>): Int32Array {
  const positions = subsets.members.subarray(s * subsets.size, (s + 1) * subsets.size);
  return Int32Array.from(positions, (position) => rows[position]);
}

/**
 * KID of the generated rows against the real rows and of S half-samples (⌊m/2⌋ generated and
 * ⌊n/2⌋ real rows each, drawn without replacement from `seed`), every kernel entry computed once.
 */
export function kidHalfSamples(
  generated: FeatureMatrix,
  generatedRows: ArrayLike<number>,
  real: FeatureMatrix,
  realRows: ArrayLike<number>,
  options: { subsets: number; seed: number },
): KidHalfSamples {
  const m = generatedRows.length;
  const n = realRows.length;
  checkSides(generated, m, real, n);
  checkHalfSampling(options.subsets, options.seed, m, n);
  const d = generated.dimension;
  const x = gatherRows(generated, generatedRows, "generated features");
  const y = gatherRows(real, realRows, "real features");
  const rng = createRng(options.seed);
  const halvesX = drawSubsets(m, floor(m / 2), options.subsets, rng.next);
  const halvesY = drawSubsets(n, floor(n / 2), options.subsets, rng.next);
  const xx = kernelSums(x, x, d, true, halvesX, halvesX);
  const yy = kernelSums(y, y, d, true, halvesY, halvesY);
  const xy = kernelSums(x, y, d, false, halvesX, halvesY);
  const values = Float64Array.from({ length: options.subsets }, (_, s) =>
    unbiasedMmd2(xx.subsets[s], yy.subsets[s], xy.subsets[s], halvesX.size, halvesY.size),
  );
  return {
    value: unbiasedMmd2(xx.total, yy.total, xy.total, m, n),
    generatedRows: Array.from({ length: options.subsets }, (_, s) =>
      rowsOf(halvesX, s, generatedRows),
    ),
    realRows: Array.from({ length: options.subsets }, (_, s) => rowsOf(halvesY, s, realRows)),
    values,
  };
}

/**
 * KID of the generated rows against the real rows (row indices into each matrix, ≥ 2 a side),
 * with a half-sampling interval when `interval` is given (≥ 4 rows a side).
 */
export function kernelInceptionDistance(
  generated: FeatureMatrix,
  generatedRows: ArrayLike<number>,
  real: FeatureMatrix,
  realRows: ArrayLike<number>,
  interval?: KidIntervalOptions,
): KidEstimate {
  const m = generatedRows.length;
  const n = realRows.length;
  checkSides(generated, m, real, n);
  if (!interval) {
    const d = generated.dimension;
    const x = gatherRows(generated, generatedRows, "generated features");
    const y = gatherRows(real, realRows, "real features");
    const value = unbiasedMmd2(
      kernelSums(x, x, d, true).total,
      kernelSums(y, y, d, true).total,
      kernelSums(x, y, d, false).total,
      m,
      n,
    );
    return { value, nGenerated: m, nReal: n };
  }
  const subsets = interval.subsets ?? DEFAULT_KID_SUBSETS;
  const level = interval.level ?? 0.95;
  assertLevel(level);
  const { seed } = interval;
  const halves = kidHalfSamples(generated, generatedRows, real, realRows, { subsets, seed });
  const { value } = halves;
  const deviations = halves.values.map((v) => v - value).sort();
  return {
    value,
    nGenerated: m,
    nReal: n,
    interval: {
      estimate: value,
      lower: value - quantileOfSorted(deviations, (1 + level) / 2),
      upper: value - quantileOfSorted(deviations, (1 - level) / 2),
      level,
      n: m + n,
      method: "half-sampling (⌊m/2⌋ generated and ⌊n/2⌋ real rows, without replacement)",
      resamples: subsets,
      seed,
    },
  };
}
