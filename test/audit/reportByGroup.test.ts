/**
 * The report's per-group view: byGroup gives each group's interval by name (fairlearn's
 * by_group) with difference() and ratio() over the estimates, and compare() lines two reports
 * up share by share. Checked against the report's own parallel arrays, on the fixture report.
 */
import { attributeRepresentation, AuditReport, type PromptRepresentation } from "../../src/audit";
import { groupIntervals } from "../../src/fairness/metricFrame";
import { wilsonInterval } from "../../src/fairness";
import { fixtureInput, fixtureReport, HOSTILE, NEUTRAL_PROMPT } from "./reportFixture";

const report = fixtureReport();
const SECOND_PROMPT = report.representation[1].prompt;

/** The fixture with the neutral prompt's sex counts replaced, and the second prompt dropped. */
function afterReport(sexCounts: [number, number]): AuditReport {
  const input = fixtureInput();
  const neutral = structuredClone(input.representation[0]) as PromptRepresentation;
  const n = sexCounts[0] + sexCounts[1];
  expect(n).toBe(neutral.n);
  neutral.attributes[0] = attributeRepresentation({
    attribute: "sex",
    groups: ["Female", "Male"],
    predicted: Int32Array.from([
      ...new Array<number>(sexCounts[0]).fill(0),
      ...new Array<number>(sexCounts[1]).fill(1),
    ]),
    probabilities: new Float32Array(n * 2).fill(0.5),
    target: [0.5, 0.5],
    seed: 4,
    resamples: 200,
  });
  return AuditReport.create({ ...input, representation: [neutral] });
}

describe("report.byGroup", () => {
  test("each group's share interval by name, in the attribute's group order", () => {
    const sex = report.attribute(NEUTRAL_PROMPT, "sex");
    const byGroup = report.byGroup(NEUTRAL_PROMPT, "sex");
    expect(Object.keys(byGroup)).toEqual(["Female", "Male"]);
    expect(byGroup.Female).toEqual(sex.proportions[0]);
    expect(byGroup.Male).toEqual(sex.proportions[1]);
    // 9 of 64 Female: the interval carries its sample size.
    expect(byGroup.Female.estimate).toBeCloseTo(9 / 64, 12);
    expect(byGroup.Female.n).toBe(64);
  });

  test("difference() and ratio() are fairlearn's: max − min and min / max of the estimates", () => {
    const byGroup = report.byGroup(NEUTRAL_PROMPT, "sex");
    expect(byGroup.difference()).toBeCloseTo(55 / 64 - 9 / 64, 12);
    expect(byGroup.ratio()).toBeCloseTo(9 / 55, 12);
    const race = report.byGroup(NEUTRAL_PROMPT, "race");
    const estimates = report.attribute(NEUTRAL_PROMPT, "race").proportions.map((p) => p.estimate);
    expect(race.difference()).toBeCloseTo(Math.max(...estimates) - Math.min(...estimates), 12);
    expect(race.ratio()).toBeCloseTo(Math.min(...estimates) / Math.max(...estimates), 12);
    // Group names are data, HTML included; intersections work the same way.
    expect(Object.keys(race)).toEqual(["Asian", HOSTILE, "White"]);
    expect(Object.keys(report.byGroup(NEUTRAL_PROMPT, "sex×race"))).toHaveLength(6);
  });

  test("only the groups are data: entries, JSON and spreading see no methods", () => {
    const byGroup = report.byGroup(NEUTRAL_PROMPT, "sex");
    expect(Object.entries(byGroup).map(([g]) => g)).toEqual(["Female", "Male"]);
    expect(Object.keys(JSON.parse(JSON.stringify(byGroup)) as object)).toEqual(["Female", "Male"]);
    expect(Object.keys({ ...byGroup })).toEqual(["Female", "Male"]);
    expect(Object.isFrozen(byGroup)).toBe(true);
    expect(Object.isFrozen(byGroup.Female)).toBe(true);
  });

  test('"corrected share" reads the error-aware estimate, and says why when there is none', () => {
    const corrected = report.byGroup(NEUTRAL_PROMPT, "sex", "corrected share");
    expect(Object.values(corrected)).toEqual(report.attribute(NEUTRAL_PROMPT, "sex").corrected);
    // The race head has no confusion matrix in the fixture.
    expect(() => report.byGroup(NEUTRAL_PROMPT, "race", "corrected share")).toThrow(
      /no corrected share for "race": .*confusion matrix/,
    );
  });

  test("an unknown prompt or attribute is named in the error", () => {
    expect(() => report.byGroup("another prompt", "sex")).toThrow(/no prompt "another prompt"/);
    expect(() => report.byGroup(NEUTRAL_PROMPT, "age")).toThrow(/no attribute "age"/);
  });
});

describe("groupIntervals", () => {
  const share = wilsonInterval(3, 10);
  test("refuses a group name that would hide difference() or ratio(), and duplicates", () => {
    expect(() => groupIntervals(["ratio", "b"], [share, share])).toThrow(/hide.*ratio\(\)/);
    expect(() => groupIntervals(["a", "a"], [share, share])).toThrow(/"a" appears twice/);
    expect(() => groupIntervals(["a"], [share, share])).toThrow(/1 groups but 2 intervals/);
  });

  test("ratio() is NaN when every estimate is 0 (no largest to divide by)", () => {
    const none = wilsonInterval(0, 10);
    const frame = groupIntervals(["a", "b"], [none, none]);
    expect(frame.difference()).toBe(0);
    expect(frame.ratio()).toBeNaN();
  });
});

describe("report.compare", () => {
  test("one row per prompt × attribute × group both reports measured, with the change", () => {
    const after = afterReport([30, 34]);
    const rows = report.compare(after);
    // The second prompt is only in `before`: left out.
    expect(new Set(rows.map((r) => r.prompt))).toEqual(new Set([NEUTRAL_PROMPT]));
    expect(rows.some((r) => r.prompt === SECOND_PROMPT)).toBe(false);
    // sex (2) + race (3) + sex×race (6) groups.
    expect(rows).toHaveLength(11);
    const female = rows.find((r) => r.attribute === "sex" && r.group === "Female")!;
    expect(female.before).toEqual(report.byGroup(NEUTRAL_PROMPT, "sex").Female);
    expect(female.after).toEqual(after.byGroup(NEUTRAL_PROMPT, "sex").Female);
    expect(female.change).toBeCloseTo(30 / 64 - 9 / 64, 12);
    // Unchanged attributes change by exactly 0.
    for (const row of rows.filter((r) => r.attribute !== "sex")) expect(row.change).toBe(0);
  });

  test("the same report compared with itself changes nothing", () => {
    const rows = report.compare(report);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.change === 0)).toBe(true);
  });

  test("different groups for one attribute, or nothing in common, is an error", () => {
    const input = fixtureInput();
    const renamed = structuredClone(input.representation) as PromptRepresentation[];
    renamed[0].attributes[0].groups = ["F", "M"];
    const other = AuditReport.create({ ...input, representation: renamed });
    expect(() => report.compare(other)).toThrow(
      /"sex" has groups \[Female, Male\] before and \[F, M\] after/,
    );
    const elsewhere = structuredClone(input.representation) as PromptRepresentation[];
    elsewhere.forEach((p, i) => (p.prompt = `prompt ${i}`));
    expect(() =>
      report.compare(AuditReport.create({ ...input, representation: elsewhere })),
    ).toThrow(/share no prompt and attribute/);
  });
});
