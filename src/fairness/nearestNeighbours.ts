/**
 * Exact nearest-neighbour search by Euclidean distance, brute force in float64 on the CPU.
 *
 * Why brute force and not tfjs: the memorisation audit asks "is this image a near-copy?", and
 * the answer lives in the smallest distances, where ‖a‖² + ‖b‖² − 2a·b in float32 cancels to
 * noise (an exact copy would come out at a few 1e-3 instead of 0). Direct differences in float64
 * are exact to rounding, give the same figures on every backend, and stay fast enough for the
 * audit's sizes (thousands of references, hundreds of queries, ~1000 dimensions) thanks to
 * prunings that never change the answer:
 * - dimensions are visited in decreasing order of the references' variance, and a partial sum
 *   of squares already above the best squared distance abandons that reference (checked every
 *   16 terms: checking after each costs more than it saves);
 * - the reverse triangle inequality, |‖q‖ − ‖r‖| ≤ ‖q − r‖: references are visited in order of
 *   their norm, outwards from the query's, and a side of the walk stops once the norm gap alone
 *   exceeds the best distance found.
 * On 32×32 chest radiographs this is ~4× faster than the plain double loop.
 * Ties go to the lower reference index, so results do not depend on the visiting order.
 */

/** Row i of the matrix is values[i·dimension … (i+1)·dimension). */
export interface RowMatrix {
  values: Float32Array | Float64Array;
  dimension: number;
}

export interface NearestNeighbours {
  /** Per query: index of its nearest reference row, −1 when it had no candidate. */
  index: Int32Array;
  /** Per query: Euclidean distance to that row, Infinity when it had no candidate. */
  distance: Float64Array;
}

export interface NearestNeighbourOptions {
  /**
   * The reference rows query i may match (default: all). The search keeps a norm-sorted copy
   * of each distinct array it is given, so return the same array for queries that share a set.
   */
  candidates?: (query: number) => readonly number[];
  /** A reference row query i must not match, e.g. itself when leaving one out (default: none). */
  excluded?: (query: number) => number;
}

/** References prepared once (norms, visiting order), searched by any number of query batches. */
export interface NeighbourSearch {
  readonly size: number;
  readonly dimension: number;
  nearest(queries: RowMatrix, options?: NearestNeighbourOptions): NearestNeighbours;
}

/** The number of rows, checking that the values are a whole number of rows. */
export function rowCount(matrix: RowMatrix, name: string): number {
  const { values, dimension } = matrix;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new Error(`${name}: dimension must be a positive integer, got ${dimension}`);
  }
  if (values.length % dimension !== 0) {
    throw new Error(
      `${name}: ${values.length} values is not a whole number of rows of ${dimension}`,
    );
  }
  return values.length / dimension;
}

/** Dimensions sorted by the rows' variance, largest first. */
function dimensionsByVariance(matrix: RowMatrix, n: number): Int32Array {
  const { values, dimension: d } = matrix;
  const sum = new Float64Array(d);
  const sumSquares = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0, k = i * d; j < d; j++, k++) {
      sum[j] += values[k];
      sumSquares[j] += values[k] * values[k];
    }
  }
  const variance = Float64Array.from(sum, (s, j) => sumSquares[j] - (s * s) / Math.max(n, 1));
  return Int32Array.from({ length: d }, (_, j) => j).sort(
    (a, b) => variance[b] - variance[a] || a - b,
  );
}

/** The rows with their columns in `order`, as float64, and each row's norm. */
function permuteColumns(
  matrix: RowMatrix,
  n: number,
  order: Int32Array,
): { values: Float64Array; norms: Float64Array } {
  const { values, dimension: d } = matrix;
  const out = new Float64Array(n * d);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    let sum = 0;
    for (let j = 0; j < d; j++) {
      const v = values[base + order[j]];
      out[base + j] = v;
      sum += v * v;
    }
    norms[i] = Math.sqrt(sum);
  }
  return { values: out, norms };
}

/** A candidate set sorted by norm: rows and their norms in ascending norm order. */
interface SortedCandidates {
  rows: Int32Array;
  norms: Float64Array;
}

/** First position whose norm is ≥ target (binary search). */
function lowerBound(norms: Float64Array, target: number): number {
  let lo = 0;
  let hi = norms.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (norms[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function neighbourSearch(references: RowMatrix): NeighbourSearch {
  const size = rowCount(references, "references");
  const d = references.dimension;
  const order = dimensionsByVariance(references, size);
  const { values: r, norms: referenceNorms } = permuteColumns(references, size, order);
  const sortedSets = new WeakMap<readonly number[], SortedCandidates>();
  const sortedFor = (rows: readonly number[]): SortedCandidates => {
    let sorted = sortedSets.get(rows);
    if (!sorted) {
      for (const row of rows) {
        if (!Number.isInteger(row) || row < 0 || row >= size) {
          throw new Error(`candidate row ${row} is not a reference row (0 … ${size - 1})`);
        }
      }
      const byNorm = Int32Array.from(rows).sort(
        (a, b) => referenceNorms[a] - referenceNorms[b] || a - b,
      );
      sorted = { rows: byNorm, norms: Float64Array.from(byNorm, (row) => referenceNorms[row]) };
      sortedSets.set(rows, sorted);
    }
    return sorted;
  };
  const all = Array.from({ length: size }, (_, i) => i);

  const nearest = (
    queries: RowMatrix,
    options: NearestNeighbourOptions = {},
  ): NearestNeighbours => {
    const n = rowCount(queries, "queries");
    if (queries.dimension !== d) {
      throw new Error(
        `queries have ${queries.dimension} dimensions, references ${d}: they must match`,
      );
    }
    const { values: q, norms: queryNorms } = permuteColumns(queries, n, order);
    const index = new Int32Array(n).fill(-1);
    const distance = new Float64Array(n).fill(Infinity);
    for (let i = 0; i < n; i++) {
      const { rows, norms } = sortedFor(options.candidates?.(i) ?? all);
      const skip = options.excluded?.(i) ?? -1;
      const qNorm = queryNorms[i];
      const qStart = i * d;
      let best = Infinity; // squared distance
      let bestRow = -1;
      const visit = (row: number): void => {
        if (row === skip) return;
        let sum = 0;
        const rStart = row * d;
        for (let k = 0; k < d; k += 16) {
          const end = k + 16 < d ? k + 16 : d;
          for (let j = k; j < end; j++) {
            const diff = q[qStart + j] - r[rStart + j];
            sum += diff * diff;
          }
          if (sum > best) return;
        }
        if (sum < best || (sum === best && row < bestRow)) {
          best = sum;
          bestRow = row;
        }
      };
      // Walk outwards from the query's norm; stop when the smaller norm gap alone is too large.
      let up = lowerBound(norms, qNorm);
      let down = up - 1;
      while (up < rows.length || down >= 0) {
        const gapUp = up < rows.length ? norms[up] - qNorm : Infinity;
        const gapDown = down >= 0 ? qNorm - norms[down] : Infinity;
        if (gapUp <= gapDown) {
          if (gapUp * gapUp > best) break;
          visit(rows[up++]);
        } else {
          if (gapDown * gapDown > best) break;
          visit(rows[down--]);
        }
      }
      index[i] = bestRow;
      distance[i] = bestRow < 0 ? Infinity : Math.sqrt(best);
    }
    return { index, distance };
  };
  return { size, dimension: d, nearest };
}

/** For each query row, its nearest reference row (Euclidean), among its candidates. */
export function nearestNeighbours(
  queries: RowMatrix,
  references: RowMatrix,
  options: NearestNeighbourOptions = {},
): NearestNeighbours {
  return neighbourSearch(references).nearest(queries, options);
}
