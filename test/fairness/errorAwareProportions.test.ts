import {
  correctProportions,
  errorAwareProportions,
} from "../../src/fairness/errorAwareProportions";
import { confusionMatrix, perClassAccuracy } from "../../src/fairness/confusionMatrix";
import { intervalContains } from "../../src/fairness/interval";
import { projectOntoSimplex } from "../../src/fairness/simplexProjection";
import { createRng, type Rng } from "../../src/util/random";

/** A classifier that is right with probability `accuracy`, else picks another group uniformly. */
function classify(rng: Rng, truth: number, k: number, accuracy: number): number {
  if (rng.next() < accuracy) return truth;
  const other = rng.int(k - 1);
  return other >= truth ? other + 1 : other;
}

describe("simplex projection and correction", () => {
  it("projects onto the probability simplex", () => {
    expect(projectOntoSimplex([0.8, 0.4])).toEqual([0.7, expect.closeTo(0.3, 15)]);
    expect(projectOntoSimplex([1.2, -0.3])).toEqual([1, 0]);
    expect(projectOntoSimplex([0.2, 0.3, 0.5])).toEqual([0.2, 0.3, 0.5]);
  });

  it("inverts a known confusion matrix exactly", () => {
    const c = [
      [0.8, 0.2],
      [0.2, 0.8],
    ];
    // q = Cᵀ p for p = (0.7, 0.3): (0.62, 0.38).
    const p = correctProportions([0.62, 0.38], c);
    expect(p[0]).toBeCloseTo(0.7, 12);
    expect(p[1]).toBeCloseTo(0.3, 12);
  });

  it("names a singular confusion matrix", () => {
    expect(() =>
      correctProportions(
        [0.5, 0.5],
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    ).toThrow(/singular/);
  });
});

describe("error-aware estimate", () => {
  it("recovers a 70/30 population through an 80 %-accurate classifier; the naive estimate does not", () => {
    const rng = createRng(2024);
    const k = 2;
    const truthShare = 0.7;
    // Generated images: true groups 70/30, seen only through the classifier.
    const generatedPredictions = Array.from({ length: 1500 }, () =>
      classify(rng, rng.next() < truthShare ? 0 : 1, k, 0.8),
    );
    // Held-out real images with known groups (balanced calibration set).
    const calibrationTrue = Array.from({ length: 800 }, (_, i) => i % 2);
    const calibrationPredicted = calibrationTrue.map((t) => classify(rng, t, k, 0.8));

    const result = errorAwareProportions(
      { generatedPredictions, calibrationTrue, calibrationPredicted, groups: k },
      { seed: 5, resamples: 500 },
    );
    const naive = result.naive[0];
    const corrected = result.corrected[0];
    console.log(
      `naive ${naive.estimate.toFixed(3)} [${naive.lower.toFixed(3)}, ${naive.upper.toFixed(3)}], ` +
        `corrected ${corrected.estimate.toFixed(3)} [${corrected.lower.toFixed(3)}, ${corrected.upper.toFixed(3)}]`,
    );
    // Expected naive share: 0.7·0.8 + 0.3·0.2 = 0.62.
    expect(naive.estimate).toBeCloseTo(0.62, 1);
    expect(intervalContains(naive, truthShare)).toBe(false);
    expect(intervalContains(corrected, truthShare)).toBe(true);
    expect(Math.abs(corrected.estimate - truthShare)).toBeLessThan(0.04);
    // Both sources of noise widen the corrected interval beyond the naive one.
    expect(corrected.upper - corrected.lower).toBeGreaterThan(naive.upper - naive.lower);
    expect(result.classAccuracy[0]).toBeCloseTo(0.8, 1);
    expect(result.corrected[0].estimate + result.corrected[1].estimate).toBeCloseTo(1, 12);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it("measures the confusion matrix row by true group", () => {
    const c = confusionMatrix([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0], 2);
    expect(c).toEqual([
      [0.75, 0.25],
      [0.5, 0.5],
    ]);
    expect(perClassAccuracy(c)).toEqual([0.75, 0.5]);
    expect(() => confusionMatrix([0, 0], [0, 1], 2)).toThrow(
      /true group 1 has no calibration images/,
    );
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 entries but predictedLabels has 1/);
  });
});
