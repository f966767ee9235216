/**
 * Targets of the distributional alignment loss: the assignment solver is optimal (hand cases and
 * brute force over all permutations for n ≤ 6), the two-group closed form equals the solver's
 * average over many draws, and bad inputs fail naming the value.
 */
import { assignmentCost, solveAssignment } from "../../src/methods/hungarianAssignment";
import {
  stratifiedSlots,
  alignmentTargets,
  binomialCdf,
  optimalTransportTargets,
  twoGroupTargets,
} from "../../src/methods/optimalTransportTargets";
import { createRng } from "../../src/util/random";

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, at) => [...p.slice(0, at), n - 1, ...p.slice(at)]),
  );
}

function bruteForceMinimum(cost: number[], n: number): number {
  return Math.min(...permutations(n).map((p) => assignmentCost(cost, p)));
}

/** n random probability rows over k groups. */
function randomProbabilities(n: number, k: number, seed: number): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: k }, () => Math.exp(2 * rng.normal()));
    const sum = row.reduce((a, b) => a + b, 0);
    out.push(...row.map((v) => v / sum));
  }
  return out;
}

describe("assignment solver", () => {
  test("hand cases", () => {
    // The diagonal is expensive; the anti-diagonal is the unique optimum.
    expect(Array.from(solveAssignment([9, 1, 1, 9], 2))).toEqual([1, 0]);
    const cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
    const assignment = solveAssignment(cost, 3);
    expect(Array.from(assignment)).toEqual([1, 0, 2]);
    expect(assignmentCost(cost, assignment)).toBe(5);
    expect(Array.from(solveAssignment([7], 1))).toEqual([0]);
    // Negative costs are fine (maximising by negation).
    expect(Array.from(solveAssignment([-1, -5, -4, -2], 2))).toEqual([1, 0]);
  });

  test("matches brute force over all permutations for n ≤ 6", () => {
    const rng = createRng(11);
    for (let n = 1; n <= 6; n++) {
      for (let trial = 0; trial < 20; trial++) {
        const cost = Array.from({ length: n * n }, () => Math.round(rng.next() * 20) - 5);
        const assignment = solveAssignment(cost, n);
        expect(new Set(assignment).size).toBe(n);
        expect(assignmentCost(cost, assignment)).toBeCloseTo(bruteForceMinimum(cost, n), 9);
      }
    }
  });

  test("bad cost matrices are rejected naming the problem", () => {
    expect(() => solveAssignment([1, 2, 3], 2)).toThrow(/3 entries, expected 2×2/);
    expect(() => solveAssignment([1, NaN, 3, 4], 2)).toThrow(/cost\[0\]\[1\] is not finite/);
  });
});

describe("alignment targets", () => {
  test("a confident, already-balanced batch keeps its own groups", () => {
    const p = [0.99, 0.01, 0.02, 0.98, 0.97, 0.03, 0.01, 0.99];
    const targets = twoGroupTargets(p, [0.5, 0.5]);
    expect(Array.from(targets.labels)).toEqual([0, 1, 0, 1]);
    // The general solver agrees on the labels.
    const general = optimalTransportTargets(p, 2, [0.5, 0.5], { rng: createRng(1), draws: 400 });
    expect(Array.from(general.labels)).toEqual([0, 1, 0, 1]);
  });

  test("an all-one-group batch is pushed to the target: most-group-1-like images flip", () => {
    // Every image is called group 0; rank by p(group 1) decides who should move.
    const p = [0.9, 0.1, 0.8, 0.2, 0.95, 0.05, 0.7, 0.3, 0.99, 0.01, 0.6, 0.4];
    const targets = twoGroupTargets(p, [0.5, 0.5]);
    const movers = Array.from(targets.labels)
      .map((label, i) => (label === 1 ? i : -1))
      .filter((i) => i >= 0);
    expect(movers).toEqual([1, 3, 5]);
    // The middle-ranked images are the least certain.
    expect(targets.confidence[1]).toBeLessThan(targets.confidence[5]);
    expect(targets.confidence[3]).toBeLessThan(targets.confidence[4]);
  });

  test("two groups: the closed form equals the solver's average over many draws", () => {
    for (const [n, share] of [
      [6, 0.5],
      [8, 0.25],
    ] as const) {
      const p = randomProbabilities(n, 2, 100 + n);
      const exact = twoGroupTargets(p, [1 - share, share]);
      const draws = 20000;
      const sampled = optimalTransportTargets(p, 2, [1 - share, share], {
        rng: createRng(n),
        draws,
      });
      for (let i = 0; i < n * 2; i++) {
        const q = exact.frequencies[i];
        const standardError = Math.sqrt((q * (1 - q)) / draws);
        expect(Math.abs(sampled.frequencies[i] - q)).toBeLessThan(4 * standardError + 1e-9);
      }
      expect(Array.from(sampled.labels)).toEqual(Array.from(exact.labels));
    }
  });

  test("the closed form's column sums follow the binomial mean", () => {
    const p = randomProbabilities(10, 2, 5);
    const targets = twoGroupTargets(p, [0.3, 0.7]);
    let group1 = 0;
    for (let i = 0; i < 10; i++) group1 += targets.frequencies[i * 2 + 1];
    expect(group1).toBeCloseTo(10 * 0.7, 9);
    expect(binomialCdf(2, 4, 0.5)).toBeCloseTo(11 / 16, 12);
    expect(binomialCdf(-1, 4, 0.5)).toBe(0);
    expect(binomialCdf(4, 4, 0.5)).toBe(1);
  });

  test("three groups: every image's q sums to 1 and the batch's expected counts follow the target", () => {
    const n = 12;
    const target = [0.5, 0.25, 0.25];
    const p = randomProbabilities(n, 3, 9);
    const targets = alignmentTargets(p, 3, target, { rng: createRng(4), draws: 300 });
    const totals = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      let rowSum = 0;
      for (let g = 0; g < 3; g++) {
        rowSum += targets.frequencies[i * 3 + g];
        totals[g] += targets.frequencies[i * 3 + g];
      }
      expect(rowSum).toBeCloseTo(1, 9);
    }
    // Draws are i.i.d. categorical: expected count n·t_g, within sampling error of 300 draws.
    totals.forEach((t, g) => expect(Math.abs(t - n * target[g])).toBeLessThan(0.5));
    // Same seed, same targets.
    const again = alignmentTargets(p, 3, target, { rng: createRng(4), draws: 300 });
    expect(Array.from(again.frequencies)).toEqual(Array.from(targets.frequencies));
  });

  test("bad targets and probabilities fail naming the value", () => {
    const p = [0.5, 0.5, 0.2, 0.8];
    expect(() => twoGroupTargets(p, [0.6, 0.6])).toThrow(/sums to 1.2/);
    expect(() => twoGroupTargets(p, [0.5, 0.25, 0.25])).toThrow(/3 entries for 2 groups/);
    expect(() => twoGroupTargets([0.5, 0.6, 0.2, 0.8], [0.5, 0.5])).toThrow(/image 0 sum to 1.1/);
    expect(() =>
      optimalTransportTargets(p, 2, [0.5, 0.5], { rng: createRng(1), draws: 0 }),
    ).toThrow(/draws must be a positive integer, got 0/);
  });
});

describe("stratified target slots (issue #24)", () => {
  test("⌊N·t⌋ slots per group, the remainder with the fractional parts' chances", () => {
    const rng = createRng(5);
    const slots = new Int32Array(8);
    const total = [0, 0, 0];
    const draws = 30000;
    for (let d = 0; d < draws; d++) {
      stratifiedSlots(slots, [0.34, 0.33, 0.33], rng);
      const c = [0, 0, 0];
      for (const g of slots) c[g]++;
      // 8·t = 2.72 / 2.64 / 2.64: every group gets 2 or 3 slots, never fewer or more.
      for (const k of c) expect(k === 2 || k === 3).toBe(true);
      c.forEach((k, g) => (total[g] += k));
    }
    [0.34, 0.33, 0.33].forEach((t, g) => expect(total[g] / draws).toBeCloseTo(8 * t, 1));
  });

  test("stratified targets for three groups pass the threshold more often than iid ones", () => {
    // 6 confidently White images, 1 Asian, 1 Black (the shipped model's typical batch).
    const p = [
      0.003, 0, 0.997, 0, 0.994, 0.006, 0.002, 0.001, 0.997, 0.02, 0, 0.98, 0.004, 0, 0.996, 0,
      0.05, 0.95, 0, 0.003, 0.997, 0.999, 0, 0.001,
    ];
    const count = (slots: "iid" | "stratified") => {
      const t = alignmentTargets(p, 3, [0.34, 0.33, 0.33], {
        rng: createRng(2),
        draws: 256,
        slots,
      });
      return Array.from(t.confidence).filter((c) => c >= 0.8).length;
    };
    expect(count("stratified")).toBeGreaterThan(count("iid"));
  });
});
