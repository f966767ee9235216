/**
 * The contract with the JupyterLab renderer: the extension's JSON reader (no DOM) reads a report
 * this library writes — title, time, every prompt and attribute with its intervals, the FID
 * and KID figures with their intervals — with no warnings; a report from before KID reads
 * without KID.
 */
import { formatKid, kidScaleOf, readAuditReport } from "../../extension/src/auditReport/reportJson";
import { kidScale } from "../../src/audit/kidScale";
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
  // FID intervals sit inside the figure ({ value, interval }); the reader finds them.
  const sexFid = quality.byAttribute[0].perGroup[0];
  expect(read.quality!.byAttribute[0].fid[0]).toMatchObject({
    estimate: sexFid.value,
    lower: sexFid.interval!.lower,
    upper: sexFid.interval!.upper,
  });
  // KID overall and per group, with intervals, NaN for the group without a figure.
  const kid = quality.overallKid!;
  expect(read.quality?.overallKid).toEqual({
    estimate: kid.value,
    lower: kid.interval!.lower,
    upper: kid.interval!.upper,
    level: kid.interval!.level,
    nGenerated: kid.nGenerated,
    nReal: kid.nReal,
  });
  expect(read.quality!.byAttribute.map((g) => g.kid?.length)).toEqual([2, 3]);
  expect(Number.isNaN(race.kid![0].estimate)).toBe(true);
  expect(race.kid![1]).toMatchObject({ estimate: -0.0004, lower: -0.0031, upper: 0.0022 });
  // One scale for the report's KIDs (×10³ for these), three significant digits, the interval
  // with it — as the HTML report shows them (src/audit/kidScale.ts).
  const scale = kidScaleOf([
    read.quality!.overallKid,
    ...read.quality!.byAttribute.flatMap((g) => g.kid ?? []),
  ]);
  expect(scale).toEqual({ power: 3, label: "KID ×10³" });
  expect(formatKid(read.quality!.overallKid, scale)).toBe("4.12 [2.31, 6.08]");
  expect(formatKid(race.kid![1], scale)).toBe("-0.40 [-3.10, 2.20]");
  expect(formatKid(race.kid![0], scale)).toBe("–");
  expect(formatKid({ estimate: 0.000123 }, scale)).toBe("0.123");
  // The project encoder's KIDs are ~1e5: shown ×10⁻³, like the library's scale.
  const large = [{ estimate: 571_225, lower: -97_636, upper: 973_848 }];
  expect(kidScaleOf(large)).toEqual(kidScale([571_225, -97_636, 973_848]));
  expect(formatKid(large[0], kidScaleOf(large))).toBe("571 [-98, 974]");
});

test("a report written before KID reads with no KID and no warning", () => {
  const wire = JSON.parse(
    JSON.stringify(fixtureReport().toMimeBundle()[AUDIT_REPORT_MIME]),
  ) as Record<string, Record<string, unknown> & { byAttribute: Record<string, unknown>[] }>;
  delete wire.quality.overallKid;
  for (const g of wire.quality.byAttribute) delete g.perGroupKid;
  const read = readAuditReport(wire);
  expect(read.warnings).toEqual([]);
  expect(read.quality?.overallKid).toBeUndefined();
  expect(read.quality?.byAttribute.map((g) => g.kid)).toEqual([undefined, undefined]);
  expect(read.quality?.byAttribute[1].fid[1].estimate).toBe(13);
});
