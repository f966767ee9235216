import { inferenceTimesteps } from "../../src/schedulers/timestepSpacing";

describe("inference timestep spacing (diffusers' timestep_spacing)", () => {
  test("leading: multiples of T/n from 0, plus the offset", () => {
    expect(Array.from(inferenceTimesteps(10, 1000, "leading"))).toEqual([
      900, 800, 700, 600, 500, 400, 300, 200, 100, 0,
    ]);
    expect(Array.from(inferenceTimesteps(4, 1000, "leading", 1))).toEqual([751, 501, 251, 1]);
  });

  test("trailing: starts at T−1", () => {
    expect(Array.from(inferenceTimesteps(10, 1000, "trailing"))).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
  });

  test("linspace: from T−1 down to 0", () => {
    expect(Array.from(inferenceTimesteps(4, 1000, "linspace"))).toEqual([999, 666, 333, 0]);
  });

  test("all 1000 steps visit every timestep", () => {
    const all = inferenceTimesteps(1000, 1000, "leading");
    expect(all[0]).toBe(999);
    expect(all[999]).toBe(0);
  });

  test("out-of-range requests fail", () => {
    expect(() => inferenceTimesteps(0, 1000, "leading")).toThrow(/1000/);
    expect(() => inferenceTimesteps(1001, 1000, "leading")).toThrow(/1001/);
    expect(() => inferenceTimesteps(10, 1000, "leading", 100)).toThrow(/stepsOffset/);
  });
});
