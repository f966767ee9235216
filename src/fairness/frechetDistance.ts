/**
 * Fréchet distance between two Gaussians fitted to feature vectors (FID when the features come
 * from Inception-v3; fairdiff names whichever extractor produced them):
 *
 *   FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½
 *
 * computed in float64 through symmetric eigenvalue problems only — never an eigen-solver on the
 * non-symmetric Σ₁Σ₂, never Newton–Schulz. For any factor B with B Bᵀ = Σ₁, B = Σ₁^½ U with U
 * orthogonal on the range of Σ₁, so Bᵀ Σ₂ B is orthogonally similar to Σ₁^½ Σ₂ Σ₁^½ and
 * tr (Σ₁^½ Σ₂ Σ₁^½)^½ = Σ √λᵢ(Bᵀ Σ₂ B), eigenvalues only, tiny negative ones (rounding) clamped
 * to 0. Two choices of B:
 *
 * - "cholesky" (default): pivoted Cholesky, B n×rank — about 3d³ flops in all, and a thin
 *   factor when Σ₁ is rank-deficient (fewer samples than dimensions);
 * - "eigen": B = V Λ^½ from the full eigendecomposition of Σ₁ (the textbook Σ₁^½), about 13d³
 *   flops: the reference the fast path is checked against.
 */
import { multiplyByTranspose } from "./denseProducts";
import { gaussianMoments, type FeatureStatistics, type GaussianMoments } from "./featureStatistics";
import { pivotedCholesky } from "./pivotedCholesky";
import { symmetricEigen, symmetricEigenvalues } from "./symmetricEigen";

// Module-level aliases: under jest's vm sandbox every global lookup (Math, Number) in a hot
// loop costs ~40×; a captured function does not.
const { abs, sqrt } = Math;
const isFiniteNumber = Number.isFinite;

export type CovarianceSquareRoot = "cholesky" | "eigen";

export interface FrechetOptions {
  squareRoot?: CovarianceSquareRoot;
}

export interface FrechetDistance {
  distance: number;
  /** ‖μ₁ − μ₂‖². */
  meanTerm: number;
  traceSigma1: number;
  traceSigma2: number;
  /** tr (Σ₁^½ Σ₂ Σ₁^½)^½. */
  traceSqrtProduct: number;
  dimension: number;
  /** Sample sizes behind each side, when known. */
  n1?: number;
  n2?: number;
  /** Rank of the covariance factor used (of the side with fewer samples, via `frechetDistance`). */
  factorRank: number;
  squareRoot: CovarianceSquareRoot;
}

type Side = FeatureStatistics | GaussianMoments;

/**
 * FD between two feature sets given as mergeable statistics or as mean/covariance. FD is
 * symmetric, so the side with fewer samples is the one factorised: its covariance has rank at
 * most n − 1, and the eigenvalue problem shrinks to that size.
 */
export function frechetDistance(a: Side, b: Side, options: FrechetOptions = {}): FrechetDistance {
  const first = "covariance" in a ? a : gaussianMoments(a);
  const second = "covariance" in b ? b : gaussianMoments(b);
  if (first.dimension !== second.dimension) {
    throw new Error(`feature dimensions differ: ${first.dimension} vs ${second.dimension}`);
  }
  const swap = second.n < first.n;
  const [x, y] = swap ? [second, first] : [first, second];
  const result = frechetDistanceFromMoments(x.mean, x.covariance, y.mean, y.covariance, options);
  return {
    ...result,
    traceSigma1: swap ? result.traceSigma2 : result.traceSigma1,
    traceSigma2: swap ? result.traceSigma1 : result.traceSigma2,
    n1: first.n,
    n2: second.n,
  };
}

/** FD from means (length d) and covariances (d×d row-major). */
export function frechetDistanceFromMoments(
  mean1: ArrayLike<number>,
  covariance1: Float64Array,
  mean2: ArrayLike<number>,
  covariance2: Float64Array,
  options: FrechetOptions = {},
): FrechetDistance {
  const d = mean1.length;
  checkMoments(mean1, covariance1, d, "1");
  checkMoments(mean2, covariance2, d, "2");
  const squareRoot = options.squareRoot ?? "cholesky";
  let meanTerm = 0;
  let traceSigma1 = 0;
  let traceSigma2 = 0;
  for (let i = 0; i < d; i++) {
    const diff = mean1[i] - mean2[i];
    meanTerm += diff * diff;
    traceSigma1 += covariance1[i * d + i];
    traceSigma2 += covariance2[i * d + i];
  }
  const { value: traceSqrtProduct, rank } = traceSqrtOfProduct(
    covariance1,
    covariance2,
    d,
    squareRoot,
  );
  return {
    distance: meanTerm + traceSigma1 + traceSigma2 - 2 * traceSqrtProduct,
    meanTerm,
    traceSigma1,
    traceSigma2,
    traceSqrtProduct,
    dimension: d,
    factorRank: rank,
    squareRoot,
  };
}

/** tr (Σ₁^½ Σ₂ Σ₁^½)^½ for symmetric positive semi-definite Σ₁, Σ₂. */
export function traceSqrtOfProduct(
  sigma1: Float64Array,
  sigma2: Float64Array,
  d: number,
  squareRoot: CovarianceSquareRoot = "cholesky",
): { value: number; rank: number } {
  const factor = squareRoot === "eigen" ? eigenFactor(sigma1, d) : choleskyFactor(sigma1, d);
  const r = factor.rank;
  if (r === 0) return { value: 0, rank: 0 };
  const sigma2Aligned = factor.permutation
    ? permuteSymmetric(sigma2, d, factor.permutation)
    : sigma2;
  // Y = Bᵀ Σ₂ as rows (r×d), then M = Bᵀ Σ₂ B (r×r, lower triangle).
  const trapezoidal = squareRoot === "cholesky";
  const y = new Float64Array(r * d);
  multiplyByTranspose(
    factor.rows,
    sigma2Aligned,
    y,
    { rows: r, cols: d, depth: d },
    {
      aZeroBeforeDiagonal: trapezoidal,
    },
  );
  const m = new Float64Array(r * r);
  multiplyByTranspose(
    factor.rows,
    y,
    m,
    { rows: r, cols: r, depth: d },
    {
      lowerOnly: true,
      aZeroBeforeDiagonal: trapezoidal,
    },
  );
  const eigenvalues = symmetricEigenvalues(m, r);
  let value = 0;
  for (let i = 0; i < r; i++) if (eigenvalues[i] > 0) value += sqrt(eigenvalues[i]);
  return { value, rank: r };
}

interface Factor {
  /** Bᵀ, rank×d. */
  rows: Float64Array;
  rank: number;
  permutation?: Int32Array;
}

function choleskyFactor(sigma: Float64Array, d: number): Factor {
  const { factorRows, rank, permutation } = pivotedCholesky(sigma, d);
  return { rows: factorRows, rank, permutation };
}

/** B = V Λ^½ over the positive eigenvalues (negative ones are rounding: clamped to 0, dropped). */
function eigenFactor(sigma: Float64Array, d: number): Factor {
  const { values, vectors } = symmetricEigen(sigma, d);
  const kept: number[] = [];
  for (let i = 0; i < d; i++) if (values[i] > 0) kept.push(i);
  const rows = new Float64Array(kept.length * d);
  kept.forEach((source, row) => {
    const scale = sqrt(values[source]);
    for (let k = 0; k < d; k++) rows[row * d + k] = scale * vectors[source * d + k];
  });
  return { rows, rank: kept.length };
}

function permuteSymmetric(m: Float64Array, d: number, order: Int32Array): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const src = order[i] * d;
    for (let j = 0; j < d; j++) out[i * d + j] = m[src + order[j]];
  }
  return out;
}

/** Means finite; covariance d×d, finite, symmetric to rounding, with a non-negative diagonal. */
function checkMoments(
  mean: ArrayLike<number>,
  covariance: Float64Array,
  d: number,
  side: string,
): void {
  if (d === 0) throw new Error("feature dimension is 0");
  if (mean.length !== d) throw new Error(`mean ${side} has ${mean.length} entries, expected ${d}`);
  if (covariance.length !== d * d) {
    throw new Error(`covariance ${side} has ${covariance.length} entries, expected ${d}×${d}`);
  }
  let scale = 0;
  for (let i = 0; i < d; i++) {
    if (!isFiniteNumber(mean[i])) throw new Error(`mean ${side}[${i}] is ${mean[i]}`);
    const v = covariance[i * d + i];
    if (!(v >= 0)) throw new Error(`covariance ${side}[${i}][${i}] is ${v}; variances must be ≥ 0`);
    scale = Math.max(scale, v);
  }
  const tolerance = 1e-9 * scale;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const lower = covariance[i * d + j];
      const upper = covariance[j * d + i];
      if (!isFiniteNumber(lower) || !isFiniteNumber(upper) || abs(lower - upper) > tolerance) {
        throw new Error(
          `covariance ${side} is not symmetric: [${i}][${j}] = ${lower} but [${j}][${i}] = ${upper}`,
        );
      }
    }
  }
}
