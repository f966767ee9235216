/**
 * Pivoted Cholesky factor of a symmetric positive semi-definite matrix (the LAPACK dpstf2
 * algorithm): P A Pᵀ ≈ L Lᵀ with L lower trapezoidal, n×rank. The largest remaining diagonal is
 * taken as the pivot at each step, and the factorisation stops when it falls to `tolerance` —
 * which is how a rank-deficient covariance (fewer samples than dimensions) gets a thin factor.
 */

// Module-level aliases: under jest's vm sandbox every global lookup (Math, Number) in a hot
// loop costs ~40×; a captured function does not.
const isFiniteNumber = Number.isFinite;

export interface PivotedCholesky {
  /** Columns of L stored as rows: row c holds L[·][c], zero before index c; rank×n. */
  factorRows: Float64Array;
  rank: number;
  /** permutation[i] = original index of pivoted row i. */
  permutation: Int32Array;
  /** The stopping threshold used. */
  tolerance: number;
}

/**
 * LAPACK's default threshold, n · ε · max diagonal: what remains below it is rounding noise of
 * forming the matrix.
 */
export function defaultCholeskyTolerance(matrix: Float64Array, n: number): number {
  let maxDiagonal = 0;
  for (let i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, matrix[i * n + i]);
  return n * Number.EPSILON * maxDiagonal;
}

/** Factorises the symmetric n×n `matrix` (row-major; only its lower triangle is read). */
export function pivotedCholesky(
  matrix: Float64Array,
  n: number,
  tolerance = defaultCholeskyTolerance(matrix, n),
): PivotedCholesky {
  if (matrix.length !== n * n) {
    throw new Error(`expected an ${n}×${n} matrix (${n * n} entries), got ${matrix.length}`);
  }
  if (!(tolerance >= 0)) throw new Error(`tolerance must be ≥ 0, got ${tolerance}`);
  const permutation = Int32Array.from({ length: n }, (_, i) => i);
  // Rows of L in pivoted order, L[i][0…j) at l[i·n …]: dot products run along rows.
  const l = new Float64Array(n * n);
  const remaining = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    remaining[i] = matrix[i * n + i];
    if (!isFiniteNumber(remaining[i])) throw new Error(`matrix[${i}][${i}] is ${remaining[i]}`);
  }
  const lowerEntry = (i: number, j: number): number =>
    i >= j ? matrix[i * n + j] : matrix[j * n + i];

  let rank = 0;
  for (let j = 0; j < n; j++) {
    let pivot = j;
    for (let i = j + 1; i < n; i++) if (remaining[i] > remaining[pivot]) pivot = i;
    if (!(remaining[pivot] > tolerance)) break;
    if (pivot !== j) {
      swap(permutation, j, pivot);
      swap(remaining, j, pivot);
      const rj = j * n;
      const rp = pivot * n;
      for (let k = 0; k < j; k++) swap(l, rj + k, rp + k);
    }
    const ljj = Math.sqrt(remaining[j]);
    const rowJ = j * n;
    l[rowJ + j] = ljj;
    const original = permutation[j];
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = lowerEntry(permutation[i], original);
      for (let k = 0; k < j; k++) s -= l[rowI + k] * l[rowJ + k];
      const lij = s / ljj;
      l[rowI + j] = lij;
      remaining[i] -= lij * lij;
    }
    rank = j + 1;
  }
  const factorRows = new Float64Array(rank * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < Math.min(i + 1, rank); c++) factorRows[c * n + i] = l[i * n + c];
  }
  return { factorRows, rank, permutation, tolerance };
}

function swap(values: Float64Array | Int32Array, i: number, j: number): void {
  const t = values[i];
  values[i] = values[j];
  values[j] = t;
}
