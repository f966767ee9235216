/**
 * The report renderer's reading of the audit-report JSON (extension/src/auditReport/reportJson.ts)
 * against a report made by runAudit (the fixture; re-made with `node` and runAudit when the schema
 * changes — AuditReport.fromJSON below fails first if it no longer matches).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { AuditReport } from "../../src/audit/auditReport";
import { AUDIT_REPORT_MIME as LIBRARY_MIME } from "../../src/audit/auditReportSchema";
import { AUDIT_REPORT_MIME, readAuditReport } from "../../extension/src/auditReport/reportJson";

const fixture = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures", "auditReport.json"), "utf8"),
);

test("the renderer claims the mime type the library emits", () => {
  expect(AUDIT_REPORT_MIME).toBe(LIBRARY_MIME);
});

test("a runAudit report reads back with every prompt, attribute, interval and intersection", () => {
  const report = AuditReport.fromJSON(fixture);
  const read = readAuditReport(report.toMimeBundle()[AUDIT_REPORT_MIME]);
  expect(read.title).toBe(report.title);
  expect(read.createdAt).toBe(report.createdAt);
  expect(read.schemaVersion).toBe(1);
  expect(read.warnings).toEqual([]);
  expect(read.prompts.map((p) => p.prompt)).toEqual(report.representation.map((p) => p.prompt));
  const original = report.representation[0];
  const section = read.prompts[0];
  expect(section.n).toBe(original.n);
  expect(section.attributes.map((a) => a.attribute)).toEqual(
    original.attributes.map((a) => a.attribute),
  );
  section.attributes.forEach((row, i) => {
    const a = original.attributes[i];
    expect(row.groups).toEqual(a.groups);
    expect(row.proportions).toEqual(
      a.proportions.map((p) => ({
        estimate: p.estimate,
        lower: p.lower,
        upper: p.upper,
        level: p.level,
      })),
    );
    expect(row.target).toEqual(a.target);
    expect(row.bias?.estimate).toBe(a.bias.estimate);
  });
  expect(section.intersections.map((a) => a.attribute)).toEqual(["sex×race"]);
  expect(read.manifest).toContainEqual(["seed", String(report.manifest.seed)]);
});

test("quality figures are read, NaN strings included", () => {
  const read = readAuditReport({
    ...fixture,
    quality: {
      extractor: { name: "radiomic-v1" },
      overall: { value: 12.5, nGenerated: 64, nReal: 128 },
      byAttribute: [
        {
          attribute: "sex",
          groups: ["Female", "Male"],
          perGroup: [{ value: "NaN" }, { value: 11 }],
          esFid: 14,
        },
      ],
    },
  });
  expect(read.quality?.extractor).toBe("radiomic-v1");
  expect(read.quality?.overall).toMatchObject({ estimate: 12.5, nGenerated: 64, nReal: 128 });
  expect(read.quality?.byAttribute[0].fid.map((f) => f.estimate)).toEqual([NaN, 11]);
  expect(read.quality?.byAttribute[0].esFid).toBe(14);
});

test("something that is not a fairdiff report is refused by name; a newer schema warns", () => {
  expect(() => readAuditReport({ kind: "other" })).toThrow(/kind is "other"/);
  expect(() => readAuditReport([1, 2])).toThrow(/JSON object/);
  expect(readAuditReport({ ...fixture, schemaVersion: 2 }).warnings[0]).toMatch(/version 2/);
});
