/**
 * The contract with the JupyterLab renderer: the extension's JSON reader (no DOM) reads a report
 * this library writes — title, time, every prompt and attribute with its intervals, the FID
 * figures — with no warnings.
 */
import { readAuditReport } from "../../extension/src/auditReport/reportJson";
import { AUDIT_REPORT_MIME } from "../../src/audit";
import { fixtureReport } from "./reportFixture";

test("the extension's renderer reads the report's JSON mime data", () => {
  const report = fixtureReport();
  const wire = JSON.parse(JSON.stringify(report.toMimeBundle()[AUDIT_REPORT_MIME])) as unknown;
  const read = readAuditReport(wire);
  expect(read.warnings).toEqual([]);
  expect(read.title).toBe(report.title);
  expect(read.createdAt).toBe(report.createdAt);
  expect(read.prompts.map((p) => p.prompt)).toEqual(report.representation.map((p) => p.prompt));
  const sex = report.representation[0].attributes[0];
  const readSex = read.prompts[0].attributes[0];
  expect(readSex.attribute).toBe("sex");
  expect(readSex.groups).toEqual(sex.groups);
  expect(readSex.target).toEqual(sex.target);
  expect(readSex.n).toBe(sex.n);
  expect(readSex.proportions).toEqual(
    sex.proportions.map((p) => ({
      estimate: p.estimate,
      lower: p.lower,
      upper: p.upper,
      level: p.level,
    })),
  );
  expect(readSex.bias?.lower).toBe(sex.bias.lower);
  expect(read.prompts[0].intersections[0].groups).toHaveLength(6);
  const quality = report.quality!;
  expect(read.quality?.extractor).toBe(quality.extractor.name);
  expect(read.quality?.overall?.estimate).toBe(quality.overall.value);
  expect(read.quality?.overall?.nReal).toBe(quality.overall.nReal);
  const race = read.quality!.byAttribute[1];
  expect(Number.isNaN(race.fid[0].estimate)).toBe(true); // "NaN" in the JSON reads as NaN
  expect(race.fid[1].estimate).toBe(13);
  expect(read.manifest.find(([key]) => key === "model.weightsSha256")?.[1]).toBe(
    report.manifest.model.weightsSha256,
  );
});
