import {
  defineAttribute,
  groupOf,
  intersectAttributes,
  proportionsOf,
  resolveAttribute,
  splitGroup,
  targetFromVector,
  uniformTarget,
  validateTarget,
} from "../../src/data";

const sex = defineAttribute("sex", ["Female", "Male"]);
const race = defineAttribute("race", ["Asian", "Black", "White"]);

describe("sensitive attributes", () => {
  test("intersection sex × race has 6 groups in row-major order", () => {
    const both = intersectAttributes(sex, race);
    expect(both.name).toBe("sex×race");
    expect(both.groups).toEqual([
      "Female×Asian",
      "Female×Black",
      "Female×White",
      "Male×Asian",
      "Male×Black",
      "Male×White",
    ]);
    expect(groupOf(both, { sex: "Male", race: "Black" })).toBe("Male×Black");
    expect(splitGroup(both, "Female×White")).toEqual({ sex: "Female", race: "White" });
  });

  test("resolves intersection names and rejects unknown attributes by name", () => {
    expect(resolveAttribute([sex, race], "race×sex").groups).toHaveLength(6);
    expect(() => resolveAttribute([sex, race], "age")).toThrow(/unknown attribute "age"/);
  });

  test("bad attribute definitions and unknown groups are named", () => {
    expect(() => defineAttribute("sex", ["Male", "Male"])).toThrow(/"Male" twice/);
    expect(() => defineAttribute("x", ["only"])).toThrow(/at least 2 groups/);
    expect(() => groupOf(sex, { sex: "unknown" })).toThrow(/unknown group "unknown"/);
  });
});

describe("target distributions", () => {
  test("accepts a valid vector and rejects negative, off-sum and unknown groups naming the value", () => {
    expect(validateTarget(race, { Asian: 0.2, Black: 0.3, White: 0.5 })).toEqual({
      Asian: 0.2,
      Black: 0.3,
      White: 0.5,
    });
    expect(() => validateTarget(race, { Asian: -0.1, Black: 0.6, White: 0.5 })).toThrow(
      /"Asian" is negative: -0.1/,
    );
    expect(() => validateTarget(race, { Asian: 0.2, Black: 0.3, White: 0.49 })).toThrow(
      /sums to 0.99/,
    );
    expect(() => validateTarget(race, { Asian: 0.2, Black: 0.3, Hispanic: 0.5 })).toThrow(
      /unknown group "Hispanic"/,
    );
    expect(() => validateTarget(race, { Asian: 0.5, Black: 0.5 })).toThrow(
      /no value for group "White"/,
    );
    // Within the 1e-6 tolerance is fine, beyond is not.
    expect(() => validateTarget(sex, { Female: 0.5 + 5e-7, Male: 0.5 })).not.toThrow();
    expect(() => validateTarget(sex, { Female: 0.5 + 5e-6, Male: 0.5 })).toThrow(/sums to/);
  });

  test("uniform, from-vector and dataset proportions", () => {
    expect(uniformTarget(sex)).toEqual({ Female: 0.5, Male: 0.5 });
    expect(targetFromVector(sex, [0.75, 0.25])).toEqual({ Female: 0.75, Male: 0.25 });
    expect(() => targetFromVector(sex, [1])).toThrow(/1 values but "sex" has 2 groups/);
    const samples = [
      { attributes: { sex: "Male" } },
      { attributes: { sex: "Male" } },
      { attributes: { sex: "Female" } },
      { attributes: { sex: "Male" } },
    ];
    expect(proportionsOf(sex, samples)).toEqual({ Female: 0.25, Male: 0.75 });
  });
});
