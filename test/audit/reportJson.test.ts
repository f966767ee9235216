/**
 * AuditReport as data: a plain JSON round trip (through text) gives back an equal report, NaN
 * figures included; save/load go through a file; a wrong kind, schema version, missing or
 * mistyped field is refused with an error that names it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AUDIT_REPORT_KIND,
  AUDIT_REPORT_MIME,
  AUDIT_REPORT_SCHEMA_VERSION,
  AuditReport,
} from "../../src/audit";
import { toDisplayPayload } from "../../kernel/output/mimeBundle";
import { fixtureReport, NEUTRAL_PROMPT } from "./reportFixture";

/** A mutable plain copy of the report's JSON; `any` lets the tests reach into any path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
function plain(report: AuditReport): Json {
  return JSON.parse(JSON.stringify(report)) as Json;
}

test("a JSON round trip through text is lossless, NaN included", () => {
  const report = fixtureReport();
  const json = plain(report);
  expect(json.kind).toBe(AUDIT_REPORT_KIND);
  expect(json.schemaVersion).toBe(AUDIT_REPORT_SCHEMA_VERSION);
  expect(json.createdAt).toBe("2025-01-02T03:04:05.000Z");
  // JSON has no NaN: the figure that could not be computed is written as a string…
  expect(json.quality.byAttribute[1].perGroup[0].value).toBe("NaN");
  const back = AuditReport.fromJSON(json);
  // …and read back as NaN, so the round trip gives the same report.
  expect(Number.isNaN(back.quality!.byAttribute[1].perGroup[0].value)).toBe(true);
  expect(back.data()).toEqual(report.data());
  expect(JSON.stringify(back)).toBe(JSON.stringify(report));
  // Every interval carries its sample size and how it was made.
  const sex = back.attribute(NEUTRAL_PROMPT, "sex");
  expect(sex.n).toBe(64);
  expect(sex.proportions[1].n).toBe(64);
  expect(sex.proportions[1].method).toMatch(/bootstrap/);
  expect(sex.corrected).toHaveLength(2);
});

test("KID round-trips with its intervals; a report written before KID still loads", () => {
  const report = fixtureReport();
  const json = plain(report);
  expect(json.quality.overallKid).toMatchObject({ value: 0.00412, subsets: 100 });
  expect(json.quality.byAttribute[1].perGroupKid[0].value).toBe("NaN");
  const back = AuditReport.fromJSON(json);
  expect(back.quality!.overallKid!.interval!.lower).toBe(0.00231);
  expect(back.quality!.byAttribute[1].perGroupKid![1].value).toBe(-0.0004);
  expect(Number.isNaN(back.quality!.byAttribute[1].perGroupKid![0].value)).toBe(true);
  // Same schema version, KID fields absent: an older report loads as it was.
  const old = plain(report);
  delete old.quality.overallKid;
  for (const g of old.quality.byAttribute) delete g.perGroupKid;
  const loaded = AuditReport.fromJSON(old);
  expect(loaded.schemaVersion).toBe(AUDIT_REPORT_SCHEMA_VERSION);
  expect(loaded.quality!.overallKid).toBeUndefined();
  expect(loaded.toString()).not.toContain("KID");
  expect(report.toString()).toContain("KID ×10³ 4.12 [2.31, 6.08]");
  expect(report.toString()).toContain("KID ×10³ by sex: Female 6.1 [1.2, 11.3] · Male 3.50");
  // A malformed KID is named like any other field.
  const badKid = plain(report);
  badKid.quality.overallKid.interval.upper = "high";
  expect(() => AuditReport.fromJSON(badKid)).toThrow(
    /report\.quality\.overallKid\.interval\.upper should be a number, got "high"/,
  );
  const shortKid = plain(report);
  shortKid.quality.byAttribute[0].perGroupKid.pop();
  expect(() => AuditReport.fromJSON(shortKid)).toThrow(
    /byAttribute\[0\]\.perGroupKid has 1 KID figures for 2 groups/,
  );
  const noSubsets = plain(report);
  delete noSubsets.quality.byAttribute[0].perGroupKid[1].subsets;
  expect(() => AuditReport.fromJSON(noSubsets)).toThrow(
    /missing field "report\.quality\.byAttribute\[0\]\.perGroupKid\[1\]\.subsets"/,
  );
});

test("a report is frozen and fromJSON leaves its input alone", () => {
  const report = fixtureReport();
  expect(Object.isFrozen(report.representation[0].attributes[0].proportions)).toBe(true);
  const json = plain(report);
  const before = JSON.stringify(json);
  AuditReport.fromJSON(json);
  expect(JSON.stringify(json)).toBe(before);
});

test("save writes JSON atomically; load reads it back; fields a newer producer adds survive", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-report-"));
  try {
    const file = path.join(dir, "nested", "report.json");
    const report = fixtureReport();
    report.save(file);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["report.json"]); // no temp file left
    expect(AuditReport.load(file).data()).toEqual(report.data());

    const extended = plain(report);
    extended.quality.extraFigure = { value: 3 };
    const back = AuditReport.fromJSON(extended);
    expect((back.quality as unknown as Record<string, unknown>).extraFigure).toEqual({ value: 3 });

    expect(() => AuditReport.load(path.join(dir, "missing.json"))).toThrow(
      /cannot read audit report ".*missing\.json"/,
    );
    fs.writeFileSync(path.join(dir, "torn.json"), '{"kind": "fairdiff-audit-report", ');
    expect(() => AuditReport.load(path.join(dir, "torn.json"))).toThrow(
      /torn\.json: audit report is not valid JSON/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a wrong kind, schema version, missing or mistyped field is named", () => {
  const json = () => plain(fixtureReport(false));
  expect(() => AuditReport.fromJSON({ ...json(), kind: "notebook" })).toThrow(
    /not a fairdiff audit report: kind is "notebook"/,
  );
  expect(() => AuditReport.fromJSON({ ...json(), schemaVersion: 2 })).toThrow(
    /schemaVersion 2 is not supported .*newer: update fairdiff/,
  );
  const noManifest = json();
  delete noManifest.manifest;
  expect(() => AuditReport.fromJSON(noManifest)).toThrow(/missing field "report\.manifest"/);
  const noBias = json();
  delete noBias.representation[0].attributes[1].bias;
  expect(() => AuditReport.fromJSON(noBias)).toThrow(
    /missing field "report\.representation\[0\]\.attributes\[1\]\.bias"/,
  );
  const badLower = json();
  badLower.representation[1].intersections[0].bias.lower = "low";
  expect(() => AuditReport.fromJSON(badLower)).toThrow(
    /report\.representation\[1\]\.intersections\[0\]\.bias\.lower should be a number, got "low"/,
  );
  const shortTarget = json();
  shortTarget.representation[0].attributes[0].target = [1];
  expect(() => AuditReport.fromJSON(shortTarget)).toThrow(
    /attributes\[0\]\.target has 1 target values for 2 groups/,
  );
  const badHash = json();
  badHash.manifest.model.weightsSha256 = 7;
  expect(() => AuditReport.fromJSON(badHash)).toThrow(
    /report\.manifest\.model\.weightsSha256 should be a string, got 7/,
  );
  expect(() => AuditReport.fromJSON([])).toThrow(/report should be an object, got an array/);
  // create() checks too, so a malformed report never reaches a file.
  const data = fixtureReport(false).data();
  expect(() =>
    AuditReport.create({ ...data, manifest: { ...data.manifest, seed: undefined as never } }),
  ).toThrow(/missing field "report\.manifest\.seed"/);
});

test("the MIME bundle offers the JSON, an HTML fragment, Markdown and a text summary", () => {
  const report = fixtureReport();
  const bundle = report.toMimeBundle();
  expect(Object.keys(bundle).sort()).toEqual(
    [AUDIT_REPORT_MIME, "text/html", "text/markdown", "text/plain"].sort(),
  );
  expect(AuditReport.fromJSON(bundle[AUDIT_REPORT_MIME]).data()).toEqual(report.data());
  expect(bundle["text/html"]).toBe(report.toHTMLFragment());
  const text = bundle["text/plain"] as string;
  // The summary names the skew: Male 55 of 64 against a 50 % target.
  expect(text).toContain("sex: Male 85.9 %");
  expect(text).toContain("target 50.0 %");
  expect(text).toContain("n = 64");
});

test("the kernel shows a report as a cell result with every representation", () => {
  const report = fixtureReport();
  const payload = toDisplayPayload(report);
  expect(Object.keys(payload.data).sort()).toEqual(
    [AUDIT_REPORT_MIME, "text/html", "text/markdown", "text/plain"].sort(),
  );
  // What goes over the wire is plain JSON the renderer can read back.
  const wire = JSON.parse(JSON.stringify(payload.data)) as Record<string, unknown>;
  expect(AuditReport.fromJSON(wire[AUDIT_REPORT_MIME]).data()).toEqual(report.data());
  expect(wire["text/plain"]).toBe(report.toString());
});
