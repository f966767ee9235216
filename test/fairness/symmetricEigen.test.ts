import { symmetricEigen, symmetricEigenvalues } from "../../src/fairness/symmetricEigen";
import { pivotedCholesky } from "../../src/fairness/pivotedCholesky";
import { createRng } from "../../src/util/random";

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** X Xᵀ for a random n×rank X: PSD with the given rank. */
function randomGram(n: number, rank: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const x = Float64Array.from({ length: n * rank }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < rank; k++) s += x[i * rank + k] * x[j * rank + k];
      a[i * n + j] = s;
    }
  }
  return a;
}

describe("symmetric eigendecomposition (Householder + implicit QL)", () => {
  it("solves a 2×2 by hand", () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2))).toEqual([
      expect.closeTo(1, 14),
      expect.closeTo(3, 14),
    ]);
  });

  it("matches the closed form of the second-difference matrix", () => {
    // tridiag(−1, 2, −1) of size n has eigenvalues 2 − 2cos(kπ/(n+1)), k = 1…n.
    const n = 50;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const values = symmetricEigenvalues(a, n);
    for (let k = 1; k <= n; k++) {
      expect(values[k - 1]).toBeCloseTo(2 - 2 * Math.cos((k * Math.PI) / (n + 1)), 12);
    }
  });

  it("returns orthonormal eigenvectors with A v = λ v for a dense random matrix", () => {
    const n = 40;
    const a = randomSymmetric(n, 7);
    const { values, vectors } = symmetricEigen(a, n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 10);
    for (let m = 0; m < n; m++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[m * n + k];
        expect(av).toBeCloseTo(values[m] * vectors[m * n + i], 10);
      }
      for (let p = 0; p <= m; p++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += vectors[m * n + k] * vectors[p * n + k];
        expect(dot).toBeCloseTo(p === m ? 1 : 0, 12);
      }
    }
    for (let m = 1; m < n; m++) expect(values[m]).toBeGreaterThanOrEqual(values[m - 1]);
  });

  it("handles repeated eigenvalues, diagonal and zero matrices", () => {
    const identity = new Float64Array(9).map((_, i) => (i % 4 === 0 ? 1 : 0));
    expect(Array.from(symmetricEigenvalues(identity, 3))).toEqual([1, 1, 1]);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(3, 0, 0, -1), 2))).toEqual([-1, 3]);
    expect(Array.from(symmetricEigenvalues(new Float64Array(16), 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(5), 1))).toEqual([5]);
  });

  it("finds the zero eigenvalues of a rank-deficient Gram matrix", () => {
    const values = symmetricEigenvalues(randomGram(30, 12, 3), 30);
    for (let i = 0; i < 18; i++) expect(Math.abs(values[i])).toBeLessThan(1e-12 * values[29]);
    expect(values[18]).toBeGreaterThan(1e-6);
  });

  it("names a bad entry", () => {
    expect(() => symmetricEigenvalues(Float64Array.of(1, NaN, NaN, 1), 2)).toThrow(
      /matrix\[0\]\[1\] is NaN/,
    );
    expect(() => symmetricEigenvalues(new Float64Array(5), 2)).toThrow(/2×2 matrix.*got 5/);
  });
});

describe("pivoted Cholesky", () => {
  it("factorises P A Pᵀ = L Lᵀ and finds the rank, within one panel and across panels", () => {
    for (const [n, rank] of [
      [25, 25],
      [25, 9],
      [150, 150],
      [150, 101],
    ]) {
      const a = randomGram(n, rank, rank);
      const f = pivotedCholesky(a, n);
      expect(f.rank).toBe(rank);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < f.rank; c++) s += f.factorRows[c * n + i] * f.factorRows[c * n + j];
          const original = a[f.permutation[i] * n + f.permutation[j]];
          expect(Math.abs(s - original)).toBeLessThan(1e-10 * n * rank);
        }
      }
    }
  });
});
