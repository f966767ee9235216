/**
 * FairDiffusion's perturbation arithmetic: weights with mean 1 and group-dependent variance,
 * the hand-checked fairness score, the σ exploration rule and the GP-driven σ search.
 */
import { defineAttribute } from "../../src/data/subgroups";
import {
  exploreSigma,
  fairnessScore,
  groupIndices,
  groupLossGap,
  groupMeanLosses,
  perturbationLayout,
  perturbationWeights,
  sigmaLabels,
} from "../../src/methods/perturbationWeights";
import { SigmaSearch } from "../../src/methods/sigmaSearch";
import { createRng } from "../../src/util/random";

const sex = defineAttribute("sex", ["Female", "Male"]);
const race = defineAttribute("race", ["White", "Black", "Asian"]);
const layout = perturbationLayout([sex, race]);

test("σ layout: one entry per (attribute, group), attribute after attribute", () => {
  expect(layout.size).toBe(5);
  expect(layout.offsets).toEqual([0, 2]);
  expect(sigmaLabels(layout)).toEqual([
    "sex:Female",
    "sex:Male",
    "race:White",
    "race:Black",
    "race:Asian",
  ]);
  expect(() => perturbationLayout([sex, sex])).toThrow(/"sex" is listed twice/);
  expect(() => perturbationLayout([])).toThrow(/at least one attribute/);
});

test("group labels: unknown group is an error naming it, a missing label is −1", () => {
  const groups = groupIndices(layout, [{ sex: "Male", race: "Asian" }, { sex: "Female" }]);
  expect(Array.from(groups[0])).toEqual([1, 0]);
  expect(Array.from(groups[1])).toEqual([2, -1]);
  expect(() => groupIndices(layout, [{ sex: "Other", race: "White" }])).toThrow(
    /sample 0 has unknown group "Other" for attribute "sex" \(expected Female, Male\)/,
  );
});

test("weights have mean ≈ 1 and variance Σ_a σ[a, g]² per group", () => {
  const n = 40000;
  const assignments = Array.from({ length: n }, (_, i) => ({
    sex: i % 2 === 0 ? "Female" : "Male",
    race: ["White", "Black", "Asian"][i % 3],
  }));
  const groups = groupIndices(layout, assignments);
  const sigma = [0.2, 0.9, 0.1, 0.5, 0.7];
  const w = perturbationWeights(layout, sigma, groups, createRng(3));
  const stats = new Map<string, { sum: number; sq: number; n: number }>();
  assignments.forEach((a, i) => {
    const key = `${a.sex}/${a.race}`;
    const s = stats.get(key) ?? { sum: 0, sq: 0, n: 0 };
    s.sum += w[i];
    s.sq += w[i] * w[i];
    s.n += 1;
    stats.set(key, s);
  });
  for (const [key, s] of stats) {
    const [sx, rc] = key.split("/");
    const expected = sigma[sex.groups.indexOf(sx)] ** 2 + sigma[2 + race.groups.indexOf(rc)] ** 2;
    const mean = s.sum / s.n;
    const variance = s.sq / s.n - mean * mean;
    expect(Math.abs(mean - 1)).toBeLessThan(4 * Math.sqrt(expected / s.n) + 1e-9);
    expect(variance / expected).toBeGreaterThan(0.9);
    expect(variance / expected).toBeLessThan(1.1);
  }
  // σ = 0 gives plain training; same seed gives the same weights.
  expect(Array.from(perturbationWeights(layout, [0, 0, 0, 0, 0], groups, createRng(3)))).toEqual(
    new Array(n).fill(1),
  );
  expect(perturbationWeights(layout, sigma, groups, createRng(3))).toEqual(w);
  expect(() => perturbationWeights(layout, [1, 1], groups, createRng(3))).toThrow(
    /σ has 2 entries, the attributes have 5 groups/,
  );
  expect(() => perturbationWeights(layout, [1, 1, -1, 1, 1], groups, createRng(3))).toThrow(
    /σ\[2\] must be a finite number ≥ 0, got -1/,
  );
});

test("fairness score by hand: −Σ_a (max − min) of group means over the groups present", () => {
  const assignments = [
    { sex: "Female", race: "White" },
    { sex: "Female", race: "Black" },
    { sex: "Male", race: "White" },
    { sex: "Male", race: "White" },
  ];
  const losses = [0.1, 0.3, 0.6, 0.2];
  const groups = groupIndices(layout, assignments);
  const means = groupMeanLosses(layout, losses, groups);
  expect(means[0][0]).toBeCloseTo(0.2); // Female: (0.1 + 0.3)/2
  expect(means[0][1]).toBeCloseTo(0.4); // Male: (0.6 + 0.2)/2
  expect(means[1][0]).toBeCloseTo(0.3); // White: (0.1 + 0.6 + 0.2)/3
  expect(means[1][1]).toBeCloseTo(0.3); // Black
  expect(means[1][2]).toBeNaN(); // Asian absent
  // sex gap 0.2, race gap over White/Black 0 → y = −0.2
  expect(fairnessScore(means)).toBeCloseTo(-0.2, 12);
  expect(groupLossGap([0.5, NaN, NaN])).toBe(0);
  expect(fairnessScore([[0.5, 0.5]])).toBeCloseTo(0);
});

test("σ exploration: σ ← ρσ + (1 − ρ)u with u ~ U(0, 1), seeded", () => {
  const sigma = [1, 0, 0.5];
  const u = createRng(7);
  const draws = [u.next(), u.next(), u.next()];
  const next = exploreSigma(sigma, 0.95, createRng(7));
  sigma.forEach((s, j) => expect(next[j]).toBeCloseTo(0.95 * s + 0.05 * draws[j], 12));
  expect(Array.from(exploreSigma(sigma, 1, createRng(7)))).toEqual(sigma);
  expect(() => exploreSigma(sigma, 1.5, createRng(7))).toThrow(/ρ must be in \[0, 1\], got 1.5/);
});

test("σ search: explores every step, jumps to the GP's UCB choice every T steps, then clears", () => {
  const search = new SigmaSearch({ size: 2, seed: 1, every: 10 });
  expect(Array.from(search.sigma)).toEqual([1, 1]);
  // The score is best (0) at σ = (0.2, 0.8): the GP should steer σ toward it.
  const score = (s: ArrayLike<number>) => -((s[0] - 0.2) ** 2) - (s[1] - 0.8) ** 2;
  let update;
  const before = Array.from(search.sigma);
  for (let step = 1; step <= 9; step++) {
    expect(search.advance(step, score(search.sigma))).toBeUndefined();
  }
  expect(search.pending).toBe(9);
  expect(Array.from(search.sigma)).not.toEqual(before);
  update = search.advance(10, score(search.sigma));
  expect(update?.observations).toBe(10);
  expect(search.pending).toBe(0);
  // Right after the jump σ is the choice plus one exploration step.
  const chosen = update?.chosen as number[];
  chosen.forEach((c, j) => expect(Math.abs(search.sigma[j] - 0.95 * c)).toBeLessThanOrEqual(0.05));
  for (let step = 11; step <= 60; step++) {
    const u = search.advance(step, score(search.sigma));
    if (u) update = u;
  }
  expect(update?.step).toBe(60);
  expect(score(update?.chosen as number[])).toBeGreaterThan(score([1, 1]));
  // Same seed, same scores → same σ path; state round-trips.
  const again = new SigmaSearch({ size: 2, seed: 1, every: 10 });
  for (let step = 1; step <= 60; step++) again.advance(step, score(again.sigma));
  expect(Array.from(again.sigma)).toEqual(Array.from(search.sigma));
  const copy = new SigmaSearch({ size: 2, seed: 1, every: 10 });
  copy.restore(search.state());
  copy.advance(61, -1);
  search.advance(61, -1);
  expect(Array.from(copy.sigma)).toEqual(Array.from(search.sigma));
  expect(() => new SigmaSearch({ size: 2, seed: 1, every: 1 })).toThrow(/interval T must be/);
  expect(() => search.advance(62, NaN)).toThrow(/fairness score must be finite/);
});
