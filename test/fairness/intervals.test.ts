import {
  bootstrapProportionMetric,
  groupProportionIntervals,
  percentileBootstrap,
  quantileOfSorted,
} from "../../src/fairness/bootstrap";
import { intervalContains } from "../../src/fairness/interval";
import { normalQuantile } from "../../src/fairness/normalQuantile";
import { shenBias } from "../../src/fairness/representationMetrics";
import { wilsonInterval } from "../../src/fairness/wilsonInterval";
import { createRng } from "../../src/util/random";

function binomialLabels(seed: number, n: number, p: number): Int32Array {
  const rng = createRng(seed);
  return Int32Array.from({ length: n }, () => (rng.next() < p ? 0 : 1));
}

describe("percentile bootstrap", () => {
  it("uses numpy's linear-interpolation quantile", () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 15);
    expect(quantileOfSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 15);
    expect(quantileOfSorted([5], 0.5)).toBe(5);
  });

  it("is deterministic for a seed and names its settings", () => {
    const labels = binomialLabels(1, 60, 0.7);
    const a = groupProportionIntervals(labels, 2, { seed: 9, resamples: 300 });
    const b = groupProportionIntervals(labels, 2, { seed: 9, resamples: 300 });
    expect(a).toEqual(b);
    expect(a[0]).toMatchObject({ level: 0.95, n: 60, method: "percentile-bootstrap", seed: 9 });
    expect(a[0].lower).toBeLessThanOrEqual(a[0].estimate);
    expect(a[0].upper).toBeGreaterThanOrEqual(a[0].estimate);
    expect(a[0].estimate + a[1].estimate).toBeCloseTo(1, 15);
  });

  it("covers the true proportion ~95 % of the time on simulated binomial data", () => {
    const experiments = 400;
    const p = 0.3;
    const n = 80;
    let bootstrapHits = 0;
    let wilsonHits = 0;
    for (let e = 0; e < experiments; e++) {
      const labels = binomialLabels(1000 + e, n, p);
      const interval = percentileBootstrap(
        n,
        (indices) => {
          let zeros = 0;
          for (let i = 0; i < indices.length; i++) if (labels[indices[i]] === 0) zeros++;
          return zeros / indices.length;
        },
        { seed: e, resamples: 200 },
      );
      if (intervalContains(interval, p)) bootstrapHits++;
      const successes = labels.reduce((s, g) => s + (g === 0 ? 1 : 0), 0);
      if (intervalContains(wilsonInterval(successes, n), p)) wilsonHits++;
    }
    const bootstrapCoverage = bootstrapHits / experiments;
    const wilsonCoverage = wilsonHits / experiments;
    console.log(
      `coverage over ${experiments} experiments: bootstrap ${bootstrapCoverage}, Wilson ${wilsonCoverage}`,
    );
    expect(bootstrapCoverage).toBeGreaterThanOrEqual(0.92);
    expect(bootstrapCoverage).toBeLessThanOrEqual(0.98);
    expect(wilsonCoverage).toBeGreaterThanOrEqual(0.92);
    expect(wilsonCoverage).toBeLessThanOrEqual(0.98);
  });

  it("puts an interval on a bias metric that excludes 0 for a clearly biased sample", () => {
    const labels = binomialLabels(3, 160, 0.8);
    const bias = bootstrapProportionMetric(labels, 2, (f) => shenBias(f), {
      seed: 1,
      resamples: 500,
    });
    expect(bias.estimate).toBeGreaterThan(0.45);
    expect(bias.lower).toBeGreaterThan(0);
  });

  it("rejects labels outside the groups", () => {
    expect(() => groupProportionIntervals([0, 1, 2], 2, { seed: 0 })).toThrow(/labels\[2\] = 2/);
    expect(() => groupProportionIntervals([0, 1], 2, { seed: 0, level: 1.5 })).toThrow(/level/);
  });
});

describe("Wilson interval", () => {
  it("matches the closed form", () => {
    const z = 1.959963984540054;
    const [k, n] = [7, 20];
    const p = k / n;
    const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
    const w = wilsonInterval(k, n);
    expect(w.lower).toBeCloseTo(centre - half, 8);
    expect(w.upper).toBeCloseTo(centre + half, 8);
  });

  it("stays inside [0, 1] at the edges and rejects impossible counts", () => {
    const w = wilsonInterval(0, 10);
    expect(w.lower).toBe(0);
    expect(w.upper).toBeGreaterThan(0.2);
    expect(() => wilsonInterval(11, 10)).toThrow(
      /successes must be an integer in \[0, 10\], got 11/,
    );
  });

  it("uses an accurate normal quantile", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 7);
  });
});
