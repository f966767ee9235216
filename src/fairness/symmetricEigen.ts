/**
 * Eigenvalues (and optionally eigenvectors) of a real symmetric matrix: Householder reduction to
 * tridiagonal form, then the implicit QL iteration with Wilkinson-style shifts (the EISPACK
 * tred2/tql2 pair, as in Numerical Recipes), written for row-major Float64Arrays.
 *
 * Only the lower triangle of the input is read. The reduction works from the last row up so that
 * every inner loop runs along a contiguous row, and is blocked so that half of its work is a
 * cache-blocked matrix product.
 */
import { multiplyByTranspose } from "./denseProducts";

// Module-level aliases: under jest's vm sandbox every global lookup (Math, Number) in a hot
// loop costs ~40×; a captured function does not.
const { abs, sqrt } = Math;
const isFiniteNumber = Number.isFinite;

export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Row m (n entries from m·n) is the unit eigenvector of values[m]. */
  vectors: Float64Array;
}

/** Most QL sweeps allowed for one eigenvalue before giving up (typically 1–3 are needed). */
const MAX_QL_SWEEPS = 60;

/** Eigenvalues of the symmetric n×n `matrix`, ascending. The input is not modified. */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  checkSquare(matrix, n);
  const work = Float64Array.from(matrix.subarray(0, n * n));
  const { diagonal, offDiagonal } = tridiagonalize(work, n, undefined);
  qlImplicit(diagonal, offDiagonal, undefined);
  return diagonal.sort();
}

/** Eigenvalues and eigenvectors of the symmetric n×n `matrix`. The input is not modified. */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  checkSquare(matrix, n);
  const work = Float64Array.from(matrix.subarray(0, n * n));
  const reflectorNorms = new Float64Array(n);
  const { diagonal, offDiagonal } = tridiagonalize(work, n, reflectorNorms);
  const basis = transposeInPlace(accumulateReflectors(work, reflectorNorms, n), n);
  qlImplicit(diagonal, offDiagonal, basis);
  return sortEigenpairs(diagonal, basis, n);
}

function checkSquare(matrix: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`matrix size must be ≥ 1, got ${n}`);
  if (matrix.length !== n * n) {
    throw new Error(`expected an ${n}×${n} matrix (${n * n} entries), got ${matrix.length}`);
  }
  for (let i = 0; i < n * n; i++) {
    if (!isFiniteNumber(matrix[i])) {
      throw new Error(`matrix[${Math.floor(i / n)}][${i % n}] is ${matrix[i]}`);
    }
  }
}

interface Tridiagonal {
  diagonal: Float64Array;
  /** offDiagonal[i] couples rows i and i+1; the last entry is 0. */
  offDiagonal: Float64Array;
}

/** Householder steps per panel in the blocked reduction. */
const PANEL = 32;

/**
 * Reduces `a` (row-major, lower triangle used) to tridiagonal form in place by Householder
 * reflections P_i = I − u uᵀ/h, i = n−1 … 1, where u lives in row i's first i entries. When
 * `reflectorNorms` is given the u's are kept there (and h in reflectorNorms[i]) for
 * `accumulateReflectors`.
 *
 * Blocked like LAPACK's dsytrd/dlatrd: within a panel of steps the rank-2 updates
 * A ← A − u wᵀ − w uᵀ are only recorded; each step brings just its own row up to date and
 * corrects its matrix–vector product for the pending updates, and the whole panel's update then
 * lands on the remaining block as one cache-blocked product.
 */
function tridiagonalize(
  a: Float64Array,
  n: number,
  reflectorNorms: Float64Array | undefined,
): Tridiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[i] couples i−1 and i
  // Panel vectors, one per step, as rows of length n: u (reflector) and w (its update partner).
  const us = new Float64Array(PANEL * n);
  const ws = new Float64Array(PANEL * n);
  const u = new Float64Array(n);
  const p = new Float64Array(n);
  const uDotW = new Float64Array(PANEL);
  const wDotU = new Float64Array(PANEL);
  let packedA = new Float64Array(0);
  let packedB = new Float64Array(0);

  for (let top = n - 1; top >= 1; top -= PANEL) {
    const bottom = Math.max(1, top - PANEL + 1); // steps top, top−1, …, bottom
    let steps = 0;
    for (let i = top; i >= bottom; i--) {
      const l = i - 1;
      const row = i * n;
      // Bring row i up to date with the panel's pending updates.
      for (let s = 0; s < steps; s++) {
        const su = s * n;
        const ui = us[su + i];
        const wi = ws[su + i];
        for (let k = 0; k <= i; k++) a[row + k] -= ui * ws[su + k] + wi * us[su + k];
      }
      d[i] = a[row + i];
      const h = makeReflector(a, n, i, e, u);
      if (reflectorNorms) reflectorNorms[i] = h;
      const slot = steps * n;
      us.fill(0, slot, slot + n);
      ws.fill(0, slot, slot + n);
      steps++;
      if (!(h > 0)) continue;
      // p = A u over the block left of row i, with the panel's pending updates subtracted.
      symmetricTimesVector(a, n, i, u, p);
      for (let s = 0; s < steps - 1; s++) {
        const su = s * n;
        let wu = 0;
        let uu = 0;
        for (let k = 0; k <= l; k++) {
          wu += ws[su + k] * u[k];
          uu += us[su + k] * u[k];
        }
        uDotW[s] = wu;
        wDotU[s] = uu;
      }
      for (let s = 0; s < steps - 1; s++) {
        const su = s * n;
        const wu = uDotW[s];
        const uu = wDotU[s];
        for (let k = 0; k <= l; k++) p[k] -= us[su + k] * wu + ws[su + k] * uu;
      }
      // w = p/h − K u with K = uᵀp/(2h²).
      let up = 0;
      for (let k = 0; k <= l; k++) {
        p[k] /= h;
        up += u[k] * p[k];
      }
      const kk = up / (2 * h);
      for (let k = 0; k <= l; k++) {
        us[slot + k] = u[k];
        ws[slot + k] = p[k] - kk * u[k];
      }
    }
    // Remaining block 0…bottom−1 −= U Wᵀ + W Uᵀ as one product of [−U −W] and [W U].
    const m = bottom;
    if (m === 0 || steps === 0) continue;
    const width = 2 * steps;
    if (packedA.length < m * width) {
      packedA = new Float64Array(m * width);
      packedB = new Float64Array(m * width);
    }
    for (let r = 0; r < m; r++) {
      for (let s = 0; s < steps; s++) {
        const uv = us[s * n + r];
        const wv = ws[s * n + r];
        packedA[r * width + s] = -uv;
        packedA[r * width + steps + s] = -wv;
        packedB[r * width + s] = wv;
        packedB[r * width + steps + s] = uv;
      }
    }
    multiplyByTranspose(
      packedA,
      packedB,
      a,
      { rows: m, cols: m, depth: width },
      {
        lowerOnly: true,
        accumulate: true,
        cRowStride: n,
      },
    );
  }
  d[0] = a[0];
  const offDiagonal = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) offDiagonal[i] = e[i + 1];
  return { diagonal: d, offDiagonal };
}

/**
 * Builds the reflector that zeroes row i left of its sub-diagonal: sets e[i], overwrites the
 * row's first i entries with u (scaled; the scale cancels in P = I − u uᵀ/h), copies u to `out`
 * and returns h, or 0 when the row is already reduced.
 */
function makeReflector(
  a: Float64Array,
  n: number,
  i: number,
  e: Float64Array,
  out: Float64Array,
): number {
  const row = i * n;
  const l = i - 1;
  if (l === 0) {
    e[i] = a[row];
    out[0] = 0;
    return 0;
  }
  let scale = 0;
  for (let k = 0; k <= l; k++) scale += abs(a[row + k]);
  if (scale === 0) {
    e[i] = 0;
    return 0;
  }
  let h = 0;
  for (let k = 0; k <= l; k++) {
    const v = a[row + k] / scale;
    a[row + k] = v;
    h += v * v;
  }
  const f = a[row + l];
  const g = f >= 0 ? -sqrt(h) : sqrt(h);
  e[i] = scale * g;
  h -= f * g;
  a[row + l] = f - g;
  for (let k = 0; k <= l; k++) out[k] = a[row + k];
  return h;
}

/**
 * out[0…m−1] = A[0…m−1][0…m−1] · u from the lower triangle, m = i (the block left of row i).
 * Each stored entry serves twice (row dot product and column update); four rows go together so
 * that u and out are streamed once per four rows of A.
 */
function symmetricTimesVector(
  a: Float64Array,
  n: number,
  m: number,
  u: Float64Array,
  out: Float64Array,
): void {
  out.fill(0, 0, m);
  let j = 0;
  for (; j + 3 < m; j += 4) {
    const r0 = j * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const u0 = u[j];
    const u1 = u[j + 1];
    const u2 = u[j + 2];
    const u3 = u[j + 3];
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    for (let k = 0; k < j; k++) {
      const x0 = a[r0 + k];
      const x1 = a[r1 + k];
      const x2 = a[r2 + k];
      const x3 = a[r3 + k];
      const uk = u[k];
      acc0 += x0 * uk;
      acc1 += x1 * uk;
      acc2 += x2 * uk;
      acc3 += x3 * uk;
      out[k] += x0 * u0 + x1 * u1 + x2 * u2 + x3 * u3;
    }
    // The 4×4 diagonal block, lower triangle.
    const a10 = a[r1 + j];
    const a20 = a[r2 + j];
    const a21 = a[r2 + j + 1];
    const a30 = a[r3 + j];
    const a31 = a[r3 + j + 1];
    const a32 = a[r3 + j + 2];
    out[j] += acc0 + a[r0 + j] * u0 + a10 * u1 + a20 * u2 + a30 * u3;
    out[j + 1] += acc1 + a10 * u0 + a[r1 + j + 1] * u1 + a21 * u2 + a31 * u3;
    out[j + 2] += acc2 + a20 * u0 + a21 * u1 + a[r2 + j + 2] * u2 + a32 * u3;
    out[j + 3] += acc3 + a30 * u0 + a31 * u1 + a32 * u2 + a[r3 + j + 3] * u3;
  }
  for (; j < m; j++) {
    const row = j * n;
    const uj = u[j];
    let acc = 0;
    for (let k = 0; k < j; k++) {
      const x = a[row + k];
      acc += x * u[k];
      out[k] += x * uj;
    }
    out[j] += acc + a[row + j] * uj;
  }
}

/**
 * Q = P_{n−1} ⋯ P_1 (so that Qᵀ A Q is the tridiagonal matrix), built by applying P_1, P_2, …
 * on the left of the identity; before P_i only the leading i×i block differs from I.
 */
function accumulateReflectors(a: Float64Array, h: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) x[i * n + i] = 1;
  const w = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    if (!(h[i] > 0)) continue;
    const uRow = i * n;
    w.fill(0, 0, i);
    for (let r = 0; r < i; r++) {
      const ur = a[uRow + r];
      if (ur === 0) continue;
      const xr = r * n;
      for (let c = 0; c < i; c++) w[c] += ur * x[xr + c];
    }
    for (let r = 0; r < i; r++) {
      const f = a[uRow + r] / h[i];
      if (f === 0) continue;
      const xr = r * n;
      for (let c = 0; c < i; c++) x[xr + c] -= f * w[c];
    }
  }
  return x;
}

function transposeInPlace(x: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = x[i * n + j];
      x[i * n + j] = x[j * n + i];
      x[j * n + i] = t;
    }
  }
  return x;
}

/**
 * Implicit QL on the tridiagonal (d, e): d becomes the eigenvalues (unsorted). When `rows` is
 * given (row k = k-th basis vector), every plane rotation is applied to rows i and i+1, so rows
 * that start as Qᵀ end as the eigenvectors.
 */
function qlImplicit(d: Float64Array, e: Float64Array, rows: Float64Array | undefined): void {
  const n = d.length;
  for (let l = 0; l < n; l++) {
    let sweeps = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = abs(d[m]) + abs(d[m + 1]);
        if (abs(e[m]) + dd === dd) break;
      }
      if (m === l) break;
      if (++sweeps > MAX_QL_SWEEPS) {
        throw new Error(`QL iteration did not converge for eigenvalue ${l} of ${n}`);
      }
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        r = hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix split; restart this eigenvalue on the smaller block.
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (rows) {
          const ri = i * n;
          const rj = ri + n;
          for (let k = 0; k < n; k++) {
            f = rows[rj + k];
            const zi = rows[ri + k];
            rows[rj + k] = s * zi + c * f;
            rows[ri + k] = c * zi - s * f;
          }
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

function hypot(a: number, b: number): number {
  const x = abs(a);
  const y = abs(b);
  if (x > y) {
    const t = y / x;
    return x * sqrt(1 + t * t);
  }
  if (y === 0) return 0;
  const t = x / y;
  return y * sqrt(1 + t * t);
}

function sortEigenpairs(values: Float64Array, rows: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[x] - values[y]);
  const sortedValues = new Float64Array(n);
  const sortedRows = new Float64Array(n * n);
  order.forEach((from, to) => {
    sortedValues[to] = values[from];
    sortedRows.set(rows.subarray(from * n, from * n + n), to * n);
  });
  return { values: sortedValues, vectors: sortedRows };
}
