/**
 * The one dense product the Fréchet distance needs, C (+)= A·Bᵀ on row-major Float64Arrays.
 *
 * Both operands are read along rows (every inner loop is a run of contiguous dot products), the
 * work is cut into k-panels and B-row blocks that stay in cache, and a 4×2 register tile reuses
 * each load four or two times. Plain scalar JavaScript: V8 keeps the eight accumulators in
 * registers.
 */

// Module-level aliases: under jest's vm sandbox every global lookup (Math, Number) in a hot
// loop costs ~40×; a captured function does not.
const { min, max } = Math;

export interface ProductShape {
  /** Rows of A (and of C). */
  rows: number;
  /** Rows of B (columns of C). */
  cols: number;
  /** Shared row length of A and B. */
  depth: number;
}

export interface ProductOptions {
  /**
   * Compute only what a symmetric result needs: every C[i][j] with j ≤ i is right; entries above
   * the diagonal are unspecified (callers mirror the lower triangle).
   */
  lowerOnly?: boolean;
  /** A[i][t] is zero for t < i (upper-trapezoidal A, zeros stored): those terms are skipped. */
  aZeroBeforeDiagonal?: boolean;
  /** Add into C instead of overwriting it. */
  accumulate?: boolean;
  /** Where C[0][0] is in `c` and the distance between its rows (default 0 and cols): lets C be a
   * block of a larger matrix. */
  cOffset?: number;
  cRowStride?: number;
}

const DEPTH_PANEL = 256;
const B_BLOCK = 128;

/** C (rows×cols) = A (rows×depth) · Bᵀ where B is cols×depth. */
export function multiplyByTranspose(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  shape: ProductShape,
  options: ProductOptions = {},
): void {
  const { rows: m, cols: p, depth: k } = shape;
  if (a.length < m * k) throw new Error(`A has ${a.length} entries, needs ${m}×${k}`);
  if (b.length < p * k) throw new Error(`B has ${b.length} entries, needs ${p}×${k}`);
  const cOffset = options.cOffset ?? 0;
  const ldc = options.cRowStride ?? p;
  if (c.length < cOffset + (m - 1) * ldc + p) {
    throw new Error(
      `C has ${c.length} entries, needs ${m}×${p} from ${cOffset} with stride ${ldc}`,
    );
  }
  const lowerOnly = options.lowerOnly ?? false;
  const trapezoidal = options.aZeroBeforeDiagonal ?? false;
  if (!options.accumulate)
    for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + p);
  for (let kk = 0; kk < k; kk += DEPTH_PANEL) {
    const kEnd = min(k, kk + DEPTH_PANEL);
    for (let jb = 0; jb < p; jb += B_BLOCK) {
      const jbEnd = min(p, jb + B_BLOCK);
      // Row tiles of 4 (aligned to multiples of 4); skip those that are all zero in this panel
      // or entirely above the diagonal.
      const iStart = lowerOnly ? jb - (jb % 4) : 0;
      for (let i = iStart; i < m; i += 4) {
        const iRows = min(4, m - i);
        if (trapezoidal && i >= kEnd) break;
        const jEnd = lowerOnly ? min(jbEnd, i + iRows) : jbEnd;
        const tStart = trapezoidal ? max(kk, i) : kk;
        if (iRows === 4) tile4(a, b, c, i, jb, jEnd, tStart, kEnd, cOffset, ldc, k);
        else {
          for (let r = 0; r < iRows; r++) {
            tile1(a, b, c, i + r, jb, jEnd, tStart, kEnd, cOffset, ldc, k);
          }
        }
      }
    }
  }
}

/**
 * Adds A[i + r]·B[j]ᵀ over t ∈ [tStart, tEnd) into C[i + r][j] for j ∈ [jStart, jEnd): rows r < 4
 * (tile4) or r = 0 (tile1). A and B rows have length k; C starts at cOffset, with row stride p.
 */
type TileKernel = (
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  i: number,
  jStart: number,
  jEnd: number,
  tStart: number,
  tEnd: number,
  cOffset: number,
  p: number,
  k: number,
) => void;

const tile4: TileKernel = (a, b, c, i, jStart, jEnd, tStart, tEnd, cOffset, p, k) => {
  const a0 = i * k;
  const a1 = a0 + k;
  const a2 = a1 + k;
  const a3 = a2 + k;
  const c0 = cOffset + i * p;
  const c1 = c0 + p;
  const c2 = c1 + p;
  const c3 = c2 + p;
  let j = jStart;
  for (; j + 1 < jEnd; j += 2) {
    const b0 = j * k;
    const b1 = b0 + k;
    let s00 = 0;
    let s01 = 0;
    let s10 = 0;
    let s11 = 0;
    let s20 = 0;
    let s21 = 0;
    let s30 = 0;
    let s31 = 0;
    for (let t = tStart; t < tEnd; t++) {
      const y0 = b[b0 + t];
      const y1 = b[b1 + t];
      const x0 = a[a0 + t];
      const x1 = a[a1 + t];
      const x2 = a[a2 + t];
      const x3 = a[a3 + t];
      s00 += x0 * y0;
      s01 += x0 * y1;
      s10 += x1 * y0;
      s11 += x1 * y1;
      s20 += x2 * y0;
      s21 += x2 * y1;
      s30 += x3 * y0;
      s31 += x3 * y1;
    }
    c[c0 + j] += s00;
    c[c0 + j + 1] += s01;
    c[c1 + j] += s10;
    c[c1 + j + 1] += s11;
    c[c2 + j] += s20;
    c[c2 + j + 1] += s21;
    c[c3 + j] += s30;
    c[c3 + j + 1] += s31;
  }
  if (j < jEnd) {
    const b0 = j * k;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = tStart; t < tEnd; t++) {
      const y = b[b0 + t];
      s0 += a[a0 + t] * y;
      s1 += a[a1 + t] * y;
      s2 += a[a2 + t] * y;
      s3 += a[a3 + t] * y;
    }
    c[c0 + j] += s0;
    c[c1 + j] += s1;
    c[c2 + j] += s2;
    c[c3 + j] += s3;
  }
};

const tile1: TileKernel = (a, b, c, i, jStart, jEnd, tStart, tEnd, cOffset, p, k) => {
  const a0 = i * k;
  for (let j = jStart; j < jEnd; j++) {
    const b0 = j * k;
    let s = 0;
    for (let t = tStart; t < tEnd; t++) s += a[a0 + t] * b[b0 + t];
    c[cOffset + i * p + j] += s;
  }
};
