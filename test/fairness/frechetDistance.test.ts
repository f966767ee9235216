import {
  addFeatures,
  emptyFeatureStatistics,
  featureStatistics,
  gaussianMoments,
  mergeFeatureStatistics,
} from "../../src/fairness/featureStatistics";
import { frechetDistance, frechetDistanceFromMoments } from "../../src/fairness/frechetDistance";
import { sampleFeatures } from "./gaussianSamples";

function diagonal(values: number[]): Float64Array {
  const d = values.length;
  const m = new Float64Array(d * d);
  values.forEach((v, i) => (m[i * d + i] = v));
  return m;
}

describe("feature statistics", () => {
  const d = 7;
  const x = sampleFeatures({ dimension: d, count: 53, seed: 4 });

  it("give the N−1 covariance of a two-pass computation", () => {
    const moments = gaussianMoments(featureStatistics(x, d));
    const n = 53;
    for (let i = 0; i < d; i++) {
      let mean = 0;
      for (let r = 0; r < n; r++) mean += x[r * d + i] / n;
      expect(moments.mean[i]).toBeCloseTo(mean, 12);
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) {
          s += (x[r * d + i] - moments.mean[i]) * (x[r * d + j] - moments.mean[j]);
        }
        expect(moments.covariance[i * d + j]).toBeCloseTo(s / (n - 1), 11);
        expect(moments.covariance[i * d + j]).toBe(moments.covariance[j * d + i]);
      }
    }
  });

  it("merge across shards to the statistics of the whole", () => {
    const whole = featureStatistics(x, d);
    const shards = [x.subarray(0, 10 * d), x.subarray(10 * d, 11 * d), x.subarray(11 * d)].map(
      (part) => featureStatistics(part, d),
    );
    const merged = mergeFeatureStatistics(...shards);
    expect(merged.n).toBe(53);
    for (let i = 0; i < d * d; i++) expect(merged.sumOuter[i]).toBeCloseTo(whole.sumOuter[i], 10);
    const incremental = emptyFeatureStatistics(d);
    addFeatures(
      incremental,
      Array.from({ length: 53 }, (_, r) => Array.from(x.subarray(r * d, r * d + d))),
    );
    expect(frechetDistance(incremental, merged).distance).toBeCloseTo(0, 9);
  });

  it("reject bad input by name", () => {
    expect(() => featureStatistics([[1, 2, NaN]], 3)).toThrow(/row 0, column 2 is NaN/);
    expect(() => featureStatistics([[1, 2]], 3)).toThrow(/row 0 has 2 values, expected 3/);
    expect(() => gaussianMoments(featureStatistics([[1, 2, 3]], 3))).toThrow(/at least 2/);
    expect(() =>
      mergeFeatureStatistics(emptyFeatureStatistics(2), emptyFeatureStatistics(3)),
    ).toThrow(/shard 1 has dimension 3/);
  });
});

describe("Fréchet distance", () => {
  it("is (μ₁−μ₂)² + (σ₁−σ₂)² in one dimension", () => {
    const fd = frechetDistanceFromMoments([1], Float64Array.of(4), [3], Float64Array.of(9));
    expect(fd.distance).toBeCloseTo(4 + 1, 13);
  });

  it("is Σ(μ diff)² + Σ(√a − √b)² for diagonal covariances, on both square roots", () => {
    const a = [4, 1, 0.25, 9, 0];
    const b = [1, 1, 1, 16, 2];
    const mu1 = [0, 1, 2, 3, 4];
    const mu2 = [1, 1, 0, 3, 4];
    let expected = 1 + 4;
    a.forEach((v, i) => (expected += (Math.sqrt(v) - Math.sqrt(b[i])) ** 2));
    for (const squareRoot of ["cholesky", "eigen"] as const) {
      const fd = frechetDistanceFromMoments(mu1, diagonal(a), mu2, diagonal(b), { squareRoot });
      expect(fd.distance).toBeCloseTo(expected, 12);
      expect(fd.factorRank).toBe(4);
    }
  });

  it("is 0 between a distribution and itself, also rank-deficient", () => {
    for (const count of [200, 12]) {
      const stats = featureStatistics(sampleFeatures({ dimension: 24, count, seed: count }), 24);
      const fd = frechetDistance(stats, stats);
      expect(Math.abs(fd.distance)).toBeLessThan(1e-6 * fd.traceSigma1);
    }
  });

  it("agrees between the Cholesky and eigen square roots on dense covariances", () => {
    // Rank-deficient inputs carry √ε-level noise in their near-zero eigenvalues (√(ε·λ) terms),
    // so they agree less tightly than full-rank ones.
    for (const [n1, n2, tolerance] of [
      [300, 250, 1e-11],
      [20, 35, 1e-8],
    ]) {
      const a = featureStatistics(sampleFeatures({ dimension: 48, count: n1, seed: 1 }), 48);
      const b = featureStatistics(
        sampleFeatures({ dimension: 48, count: n2, seed: 2, shift: 1 }),
        48,
      );
      const fast = frechetDistance(a, b);
      const reference = frechetDistance(a, b, { squareRoot: "eigen" });
      expect(Math.abs(fast.distance - reference.distance)).toBeLessThan(
        tolerance * reference.distance,
      );
      expect(fast.n1).toBe(n1);
    }
  });

  it("rejects asymmetric, non-finite or mismatched moments by name", () => {
    expect(() =>
      frechetDistanceFromMoments([0, 0], Float64Array.of(1, 0.5, 0.4, 1), [0, 0], diagonal([1, 1])),
    ).toThrow(/covariance 1 is not symmetric: \[1\]\[0\] = 0.4 but \[0\]\[1\] = 0.5/);
    expect(() =>
      frechetDistanceFromMoments([0, NaN], diagonal([1, 1]), [0, 0], diagonal([1, 1])),
    ).toThrow(/mean 1\[1\] is NaN/);
    expect(() => frechetDistanceFromMoments([0], diagonal([1]), [0, 0], diagonal([1, 1]))).toThrow(
      /mean 2 has 2 entries, expected 1/,
    );
    expect(() => frechetDistanceFromMoments([0], Float64Array.of(-1), [0], diagonal([1]))).toThrow(
      /variances must be ≥ 0/,
    );
  });
});
