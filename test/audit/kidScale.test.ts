/**
 * KID's size depends on the feature extractor, so figures shown together share one engineering
 * scale chosen from the largest, and the label names it.
 */
import { kidScale, kidValue, kidValuesOf, kidWithInterval } from "../../src/audit/kidScale";

test("the scale puts the largest |KID| in [1, 1000) and names it", () => {
  expect(kidScale([0.00412, -0.0004])).toEqual({ power: 3, label: "KID ×10³" });
  expect(kidScale([0.5])).toEqual({ power: 3, label: "KID ×10³" });
  expect(kidScale([2.5, 0.1])).toEqual({ power: 0, label: "KID" });
  expect(kidScale([571_225, 973_848])).toEqual({ power: -3, label: "KID ×10⁻³" });
  expect(kidScale([4.2e7])).toEqual({ power: -6, label: "KID ×10⁻⁶" });
  expect(kidScale([3e-7])).toEqual({ power: 9, label: "KID ×10⁹" });
  expect(kidScale([NaN, 0])).toEqual({ power: 3, label: "KID ×10³" });
});

test("values on a scale: three significant digits, one number of decimals per figure", () => {
  const small = kidScale([0.00412]);
  expect(kidValue(0.001234, small)).toBe("1.23");
  expect(
    kidWithInterval({ value: 0.00412, interval: { lower: 0.00231, upper: 0.00608 } }, small),
  ).toBe("4.12 [2.31, 6.08]");
  const large = kidScale([973_848]);
  expect(
    kidWithInterval({ value: 571_225, interval: { lower: -97_636, upper: 973_848 } }, large),
  ).toBe("571 [-98, 974]");
  expect(kidValue(NaN, large)).toBe("n/a");
});

test("a quality audit's KID values: estimates and interval ends, overall and per group", () => {
  const values = kidValuesOf({
    overallKid: { value: 1, interval: { lower: 0, upper: 2 } },
    byAttribute: [
      { perGroupKid: [{ value: 3 }, { value: 4, interval: { lower: 5, upper: 6 } }] },
      {},
    ],
  });
  expect(values).toEqual([1, 0, 2, 3, 4, 5, 6]);
});
