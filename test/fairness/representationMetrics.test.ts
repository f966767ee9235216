import {
  fairnessDiscrepancy,
  klDivergenceFromTarget,
  proportionsFromCounts,
  representationMetrics,
  shenBias,
  totalVariation,
  uniformProportions,
} from "../../src/fairness/representationMetrics";

describe("Shen et al. bias", () => {
  it("is |f₁ − f₂| for two groups and a uniform target", () => {
    expect(shenBias([0.7, 0.3])).toBeCloseTo(0.4, 15);
    expect(shenBias([1, 0])).toBe(1);
    expect(shenBias([0.5, 0.5])).toBe(0);
  });

  it("averages over the six pairs of four groups", () => {
    // |.4−.3| + |.4−.2| + |.4−.1| + |.3−.2| + |.3−.1| + |.2−.1| = 1.0, over 6 pairs.
    expect(shenBias([0.4, 0.3, 0.2, 0.1])).toBeCloseTo(1 / 6, 15);
  });

  it("is the mean |f_g − t_g| for a non-uniform target", () => {
    // Shen et al.'s 75 % young / 25 % old target, generated 50/50.
    expect(shenBias([0.5, 0.5], [0.75, 0.25])).toBeCloseTo(0.25, 15);
    expect(shenBias([0.75, 0.25], [0.75, 0.25])).toBe(0);
  });

  it("takes proportions from counts", () => {
    expect(proportionsFromCounts([42, 18])).toEqual([0.7, 0.3]);
    expect(shenBias(proportionsFromCounts([42, 18]))).toBeCloseTo(0.4, 15);
  });
});

describe("total variation and KL", () => {
  it("total variation is half the L1 distance", () => {
    expect(totalVariation([0.7, 0.3], [0.5, 0.5])).toBeCloseTo(0.2, 15);
    expect(totalVariation([0.4, 0.3, 0.2, 0.1], uniformProportions(4))).toBeCloseTo(0.2, 15);
    expect(totalVariation([1, 0, 0], [0, 0, 1])).toBe(1);
  });

  it("KL(target ‖ freq) matches the hand value", () => {
    // ½ ln(0.5/0.7) + ½ ln(0.5/0.3) = ½ ln(25/21)
    const expected = 0.5 * Math.log(25 / 21);
    expect(klDivergenceFromTarget([0.5, 0.5], [0.7, 0.3])).toBeCloseTo(expected, 5);
    expect(klDivergenceFromTarget([0.5, 0.5], [0.7, 0.3], 0)).toBeCloseTo(expected, 15);
    expect(klDivergenceFromTarget([0.3, 0.7], [0.3, 0.7], 0)).toBe(0);
  });

  it("smooths a group that was never generated into a large finite value", () => {
    const eps = 1e-6;
    const expected =
      0.5 * Math.log(0.5 / ((1 + eps) / (1 + 2 * eps))) +
      0.5 * Math.log(0.5 / (eps / (1 + 2 * eps)));
    const kl = klDivergenceFromTarget([0.5, 0.5], [1, 0]);
    expect(Number.isFinite(kl)).toBe(true);
    expect(kl).toBeCloseTo(expected, 10);
    // A target of 0 for a group contributes nothing.
    expect(klDivergenceFromTarget([1, 0], [1, 0], 0)).toBe(0);
  });

  it("bundles the metrics", () => {
    const m = representationMetrics([0.7, 0.3], [0.5, 0.5]);
    expect(m.bias).toBeCloseTo(0.4, 15);
    expect(m.totalVariation).toBeCloseTo(0.2, 15);
    expect(m.klSmoothing).toBe(1e-6);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe("fairness discrepancy", () => {
  it("is ‖E[p] − t‖₂ over per-image probability vectors", () => {
    const probabilities = [
      [0.9, 0.1],
      [0.6, 0.4],
      [0.3, 0.7],
    ];
    // mean = (0.6, 0.4): √(0.1² + 0.1²)
    expect(fairnessDiscrepancy(probabilities, [0.5, 0.5])).toBeCloseTo(Math.SQRT2 / 10, 15);
    expect(fairnessDiscrepancy([[0.25, 0.75]], [0.25, 0.75])).toBe(0);
  });
});

describe("bad input fails loudly, naming the value", () => {
  it("rejects a target that does not sum to 1", () => {
    expect(() => shenBias([0.5, 0.5], [0.6, 0.6])).toThrow(
      /target must sum to 1.*0\.6, 0\.6.*1\.2/,
    );
  });
  it("rejects NaN and negative entries", () => {
    expect(() => totalVariation([NaN, 1], [0.5, 0.5])).toThrow(/frequencies\[0\].*NaN/);
    expect(() => proportionsFromCounts([3, -1])).toThrow(/counts\[1\] must be ≥ 0, got -1/);
  });
  it("rejects mismatched lengths", () => {
    expect(() => totalVariation([0.5, 0.5], [0.2, 0.3, 0.5])).toThrow(/2 entries.*3/);
    expect(() => fairnessDiscrepancy([[0.5, 0.3, 0.2]], [0.5, 0.5])).toThrow(
      /probabilities\[0\] has 3 entries, target has 2/,
    );
  });
  it("rejects all-zero counts and a single group", () => {
    expect(() => proportionsFromCounts([0, 0])).toThrow(/sum to 0/);
    expect(() => shenBias([1])).toThrow(/at least 2 groups/);
  });
});
