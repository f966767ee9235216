/**
 * Pivoted Cholesky factor of a symmetric positive semi-definite matrix (LAPACK's dpstrf
 * algorithm): P A Pᵀ ≈ L Lᵀ with L lower trapezoidal, n×rank. The largest remaining diagonal is
 * taken as the pivot at each step, and the factorisation stops when it falls to `tolerance` —
 * which is how a rank-deficient covariance (fewer samples than dimensions) gets a thin factor.
 */
import { multiplyByTranspose } from "./denseProducts";

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

/** Columns per panel: the trailing update after each panel is a matrix product. */
const PANEL = 64;

/**
 * Factorises the symmetric n×n `matrix` (row-major; only its lower triangle is read). Blocked as
 * LAPACK's dpstrf: inside a panel of columns each new column is corrected by the panel's earlier
 * columns only (short contiguous dot products); after the panel the trailing block takes the
 * whole panel's update at once as a cache-blocked product.
 */
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
  // Working copy in pivoted order, lower triangle: columns < j hold L, the rest the trailing
  // Schur complement (updated up to the current panel's first column).
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w.set(matrix.subarray(i * n, i * n + i + 1), i * n);
  const remaining = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    remaining[i] = w[i * n + i];
    if (!isFiniteNumber(remaining[i])) throw new Error(`matrix[${i}][${i}] is ${remaining[i]}`);
  }
  let panel = new Float64Array(0);
  let negatedPanel = new Float64Array(0);
  let rank = 0;
  let stopped = false;
  for (let jb = 0; jb < n && !stopped; jb += PANEL) {
    const jEnd = Math.min(n, jb + PANEL);
    for (let j = jb; j < jEnd; j++) {
      let pivot = j;
      for (let i = j + 1; i < n; i++) if (remaining[i] > remaining[pivot]) pivot = i;
      if (!(remaining[pivot] > tolerance)) {
        stopped = true;
        break;
      }
      if (pivot !== j) {
        swapSymmetric(w, n, j, pivot);
        swap(permutation, j, pivot);
        swap(remaining, j, pivot);
      }
      const ljj = Math.sqrt(remaining[j]);
      const rowJ = j * n;
      w[rowJ + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        const rowI = i * n;
        let s = w[rowI + j];
        for (let k = jb; k < j; k++) s -= w[rowI + k] * w[rowJ + k];
        const lij = s / ljj;
        w[rowI + j] = lij;
        remaining[i] -= lij * lij;
      }
      rank = j + 1;
    }
    const rows = n - jEnd;
    if (stopped || rows === 0) continue;
    // Trailing block −= Lp Lpᵀ, Lp = rows jEnd… of the panel's columns, packed contiguous.
    const width = jEnd - jb;
    if (panel.length < rows * width) {
      panel = new Float64Array(rows * width);
      negatedPanel = new Float64Array(rows * width);
    }
    for (let i = 0; i < rows; i++) {
      for (let c = 0; c < width; c++) {
        const v = w[(jEnd + i) * n + jb + c];
        panel[i * width + c] = v;
        negatedPanel[i * width + c] = -v;
      }
    }
    multiplyByTranspose(
      negatedPanel,
      panel,
      w,
      { rows, cols: rows, depth: width },
      {
        lowerOnly: true,
        accumulate: true,
        cOffset: jEnd * n + jEnd,
        cRowStride: n,
      },
    );
  }
  const factorRows = new Float64Array(rank * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < Math.min(i + 1, rank); c++) factorRows[c * n + i] = w[i * n + c];
  }
  return { factorRows, rank, permutation, tolerance };
}

/** Swaps indices j < p of a symmetric matrix held in its lower triangle (LAPACK's dpstf2 swap). */
function swapSymmetric(w: Float64Array, n: number, j: number, p: number): void {
  const rj = j * n;
  const rp = p * n;
  for (let k = 0; k < j; k++) swap(w, rj + k, rp + k);
  swap(w, rj + j, rp + p);
  for (let i = j + 1; i < p; i++) swap(w, i * n + j, rp + i);
  for (let i = p + 1; i < n; i++) swap(w, i * n + j, i * n + p);
}

function swap(values: Float64Array | Int32Array, i: number, j: number): void {
  const t = values[i];
  values[i] = values[j];
  values[j] = t;
}
