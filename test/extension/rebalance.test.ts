/** The target sliders' linking rule (extension/src/rebalance.ts). */
import { normalize, rebalance } from "../../extension/src/rebalance";

const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);

test("moving one group rescales the unlocked others in their ratio, keeping the sum 1", () => {
  const out = rebalance([0.2, 0.3, 0.5], [false, false, false], 0, 0.6);
  expect(out[0]).toBe(0.6);
  expect(out[1] / out[2]).toBeCloseTo(0.3 / 0.5, 12);
  expect(sum(out)).toBeCloseTo(1, 15);
});

test("locked groups keep their share and cap how far a group can move", () => {
  const out = rebalance([0.2, 0.3, 0.5], [false, true, false], 0, 0.9);
  expect(out).toEqual([0.7, 0.3, expect.closeTo(0, 12)]);
  expect(sum(out)).toBeCloseTo(1, 15);
});

test("with every other group locked nothing moves", () => {
  expect(rebalance([0.25, 0.75], [false, true], 0, 0.5)).toEqual([0.25, 0.75]);
});

test("others at zero share what is left equally; out-of-range requests are clamped", () => {
  const spread = rebalance([1, 0, 0], [false, false, false], 0, 0.4);
  expect(spread.map((v) => v.toFixed(12))).toEqual([
    "0.400000000000",
    "0.300000000000",
    "0.300000000000",
  ]);
  expect(rebalance([0.5, 0.5], [false, false], 1, -3)).toEqual([1, 0]);
  expect(rebalance([0.5, 0.5], [false, false], 1, 7)).toEqual([0, 1]);
});

test("bad input names the bad value", () => {
  expect(() => rebalance([0.5, 0.5], [false, false], 2, 0.1)).toThrow(/index 2/);
  expect(() => rebalance([0.5, 0.5], [false, false], 0, NaN)).toThrow(/NaN/);
});

test("normalize scales to 1 and falls back to uniform", () => {
  expect(normalize([1, 3])).toEqual([0.25, 0.75]);
  expect(normalize([0, 0, 0])).toEqual([1 / 3, 1 / 3, 1 / 3]);
  expect(normalize([2, -1, NaN])).toEqual([1, 0, 0]);
});
