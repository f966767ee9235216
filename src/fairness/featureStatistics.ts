/**
 * Mergeable first and second moments of feature vectors, {n, sum, sumOuter}: shards of a data
 * set (workers, batches, runs on different machines) are summarised apart and added, and the mean
 * and the N−1 covariance come out of the sum exactly as if every row had been seen at once.
 *
 * Float64 throughout. Covariance = (Σxxᵀ − n·μμᵀ)/(n−1) loses log10(‖μ‖²/σ²) digits to
 * cancellation; for features of unit-order mean and spread that is a few ulps.
 */
import { multiplyByTranspose } from "./denseProducts";

// Module-level aliases: under jest's vm sandbox every global lookup (Math, Number) in a hot
// loop costs ~40×; a captured function does not.
const isFiniteNumber = Number.isFinite;

export interface FeatureStatistics {
  dimension: number;
  /** Number of feature vectors seen. */
  n: number;
  /** Σ x, length dimension. */
  sum: Float64Array;
  /** Σ x xᵀ, dimension×dimension row-major (kept symmetric). */
  sumOuter: Float64Array;
}

export interface GaussianMoments {
  dimension: number;
  n: number;
  mean: Float64Array;
  /** Sample covariance with the N−1 denominator, row-major. */
  covariance: Float64Array;
}

export function emptyFeatureStatistics(dimension: number): FeatureStatistics {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new Error(`feature dimension must be a positive integer, got ${dimension}`);
  }
  return {
    dimension,
    n: 0,
    sum: new Float64Array(dimension),
    sumOuter: new Float64Array(dimension * dimension),
  };
}

/**
 * Adds a batch of feature vectors (row-major, rows × dimension, or an array of rows) into
 * `stats` in place and returns it.
 */
export function addFeatures(
  stats: FeatureStatistics,
  batch: Float64Array | Float32Array | ArrayLike<number>[],
): FeatureStatistics {
  const d = stats.dimension;
  const flat = flattenRows(batch, d);
  const rows = flat.length / d;
  if (rows === 0) return stats;
  // Transposed (dimension × rows) so that Σxxᵀ is a product of contiguous rows.
  const columns = new Float64Array(d * rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) {
      const v = flat[r * d + c];
      if (!isFiniteNumber(v)) throw new Error(`feature row ${r}, column ${c} is ${v}`);
      columns[c * rows + r] = v;
      stats.sum[c] += v;
    }
  }
  multiplyByTranspose(
    columns,
    columns,
    stats.sumOuter,
    { rows: d, cols: d, depth: rows },
    {
      lowerOnly: true,
      accumulate: true,
    },
  );
  mirrorLowerTriangle(stats.sumOuter, d);
  stats.n += rows;
  return stats;
}

/** Statistics of a feature matrix in one call. */
export function featureStatistics(
  batch: Float64Array | Float32Array | ArrayLike<number>[],
  dimension: number,
): FeatureStatistics {
  return addFeatures(emptyFeatureStatistics(dimension), batch);
}

/** The statistics of the union of the shards (a new value; inputs untouched). */
export function mergeFeatureStatistics(...shards: FeatureStatistics[]): FeatureStatistics {
  if (shards.length === 0) throw new Error("mergeFeatureStatistics needs at least one shard");
  const d = shards[0].dimension;
  const merged = emptyFeatureStatistics(d);
  shards.forEach((shard, index) => {
    if (shard.dimension !== d) {
      throw new Error(`shard ${index} has dimension ${shard.dimension}, shard 0 has ${d}`);
    }
    merged.n += shard.n;
    for (let i = 0; i < d; i++) merged.sum[i] += shard.sum[i];
    for (let i = 0; i < d * d; i++) merged.sumOuter[i] += shard.sumOuter[i];
  });
  return merged;
}

/** Mean and N−1 covariance; needs n ≥ 2. */
export function gaussianMoments(stats: FeatureStatistics): GaussianMoments {
  const { dimension: d, n } = stats;
  if (n < 2) throw new Error(`a covariance needs at least 2 feature vectors, got n = ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < d; i++) mean[i] = stats.sum[i] / n;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (stats.sumOuter[i * d + j] - n * mean[i] * mean[j]) / (n - 1);
      covariance[i * d + j] = v;
      covariance[j * d + i] = v;
    }
  }
  return { dimension: d, n, mean, covariance };
}

function flattenRows(
  batch: Float64Array | Float32Array | ArrayLike<number>[],
  d: number,
): ArrayLike<number> {
  if (batch instanceof Float64Array || batch instanceof Float32Array) {
    if (batch.length % d !== 0) {
      throw new Error(`batch of ${batch.length} values is not a whole number of ${d}-vectors`);
    }
    return batch;
  }
  const flat = new Float64Array(batch.length * d);
  batch.forEach((row, r) => {
    if (row.length !== d)
      throw new Error(`feature row ${r} has ${row.length} values, expected ${d}`);
    for (let c = 0; c < d; c++) flat[r * d + c] = row[c];
  });
  return flat;
}

function mirrorLowerTriangle(m: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[j * d + i] = m[i * d + j];
}
