import { rocAuc } from "../../src/fairness/auc";
import {
  equityScaledAuc,
  equityScaledAucFromScores,
  equityScaledFid,
  equityScaledFidFromFeatures,
} from "../../src/fairness/equityScaled";
import { featureStatistics, mergeFeatureStatistics } from "../../src/fairness/featureStatistics";
import { computeMetricFrame, metricFrame } from "../../src/fairness/metricFrame";
import { sampleFeatures } from "./gaussianSamples";

describe("AUC (Mann–Whitney with ties)", () => {
  it("counts a tie as half a win", () => {
    // Positives 0.8, 0.5; negatives 0.5, 0.2: wins 1 + 1 + ½ + 1 of 4 pairs.
    expect(rocAuc([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0])).toBeCloseTo(0.875, 15);
    expect(rocAuc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([1, 2, 3, 4], [1, 1, 0, 0])).toBe(0);
    expect(rocAuc([5, 5, 5, 5], [1, 0, 1, 0])).toBe(0.5);
  });

  it("equals the brute-force pair count", () => {
    const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.05, 0.4];
    const labels = [0, 0, 1, 1, 1, 0, 0, 1];
    let wins = 0;
    let pairs = 0;
    scores.forEach((s, i) =>
      scores.forEach((t, j) => {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += s > t ? 1 : s === t ? 0.5 : 0;
        }
      }),
    );
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 15);
  });

  it("needs both classes and 0/1 labels", () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/2 positives, 0 negatives/);
    expect(() => rocAuc([0.1, 0.2], [1, 2])).toThrow(/labels\[1\] = 2/);
  });
});

describe("equity scaling", () => {
  it("ES-AUC = AUC / (1 + Σ|AUC_g − AUC|)", () => {
    expect(equityScaledAuc(0.8, { a: 0.9, b: 0.7 })).toBeCloseTo(0.8 / 1.2, 15);
    expect(equityScaledAuc(0.8, { a: 0.8, b: 0.8 })).toBe(0.8);
  });

  it("ES-FID = FID + Σ|FID_g − FID| (fairdiff's definition)", () => {
    expect(equityScaledFid(10, { a: 12, b: 9 })).toBe(13);
    expect(equityScaledFid(10, { a: 10, b: 10 })).toBe(10);
    expect(() => equityScaledFid(10, {})).toThrow(/no groups/);
    expect(() => equityScaledFid(10, { a: NaN })).toThrow(/group "a" is NaN/);
  });

  it("computes per-group AUC and ES-AUC from scores", () => {
    const scores = [0.9, 0.2, 0.8, 0.3, 0.6, 0.5, 0.4, 0.7];
    const labels = [1, 0, 1, 0, 1, 0, 1, 0];
    const groups = ["f", "f", "f", "f", "m", "m", "m", "m"];
    const result = equityScaledAucFromScores(scores, labels, groups);
    expect(result.frame.byGroup).toEqual({ f: 1, m: 0.25 });
    const overall = rocAuc(scores, labels);
    expect(result.frame.overall).toBe(overall);
    expect(result.esAuc).toBeCloseTo(
      overall / (1 + Math.abs(1 - overall) + Math.abs(0.25 - overall)),
      15,
    );
    expect(result.frame.sampleSize).toEqual({ overall: 8, byGroup: { f: 4, m: 4 } });
  });

  it("computes FID per group and ES-FID from feature statistics, naming the extractor", () => {
    const d = 6;
    // Same population for every set; the generator shifts group m's mean away from the real one.
    const stats = (seed: number, shift: number, count = 80) =>
      featureStatistics(sampleFeatures({ dimension: d, count, seed, shift, population: 99 }), d);
    const generated = { f: stats(1, 0), m: stats(2, 0.8) };
    const real = { f: stats(3, 0), m: stats(4, 0) };
    const result = equityScaledFidFromFeatures(
      {
        generated: mergeFeatureStatistics(generated.f, generated.m),
        real: mergeFeatureStatistics(real.f, real.m),
      },
      { generated, real },
      "radiomic-v1",
    );
    expect(result.frame.metric).toBe("FID (radiomic-v1)");
    expect(result.frame.byGroup.m).toBeGreaterThan(result.frame.byGroup.f);
    const { overall, byGroup } = result.frame;
    expect(result.esFid).toBeCloseTo(
      overall + Math.abs(byGroup.f - overall) + Math.abs(byGroup.m - overall),
      12,
    );
    expect(() =>
      equityScaledFidFromFeatures(
        { generated: generated.f, real: real.f },
        { generated: { f: generated.f }, real },
        "x",
      ),
    ).toThrow(/no generated feature statistics for group "m"/);
  });
});

describe("metric frame", () => {
  it("reports overall, by group, difference and ratio as plain values", () => {
    const frame = metricFrame("accuracy", 0.8, { a: 0.9, b: 0.6, c: 0.75 });
    expect(frame.difference).toBeCloseTo(0.3, 15);
    expect(frame.ratio).toBeCloseTo(0.6 / 0.9, 15);
    expect(frame.groupMin).toEqual({ group: "b", value: 0.6 });
    expect(frame.groupMax).toEqual({ group: "a", value: 0.9 });
    expect(JSON.parse(JSON.stringify(frame))).toEqual(frame);
  });

  it("evaluates a metric on every group's rows like fairlearn's MetricFrame", () => {
    const correct = [1, 1, 0, 1, 0, 0, 1, 1];
    const groupOf = ["x", "x", "x", "x", "y", "y", "y", "y"];
    const accuracy = (rows: number[]) => rows.reduce((s, i) => s + correct[i], 0) / rows.length;
    const frame = computeMetricFrame("accuracy", accuracy, groupOf);
    expect(frame.overall).toBe(5 / 8);
    expect(frame.byGroup).toEqual({ x: 0.75, y: 0.5 });
    expect(frame.difference).toBe(0.25);
    expect(frame.ratio).toBeCloseTo(2 / 3, 15);
    expect(frame.sampleSize).toEqual({ overall: 8, byGroup: { x: 4, y: 4 } });
  });
});
