/**
 * Reads a report from untrusted JSON: checks every field the renderers rely on and says which
 * one is wrong ("audit report: representation[0].attributes[1].bias.lower should be a number,
 * got string"), turns the "NaN"/"Infinity" strings back into numbers, and keeps fields it does
 * not know (a newer producer's extras survive a round trip).
 */
import {
  AUDIT_REPORT_KIND,
  AUDIT_REPORT_SCHEMA_VERSION,
  type AuditReportData,
} from "./auditReportSchema";
import {
  describeJson,
  fail,
  interval,
  list,
  num,
  numbers,
  object,
  optNum,
  optStr,
  present,
  record,
  str,
  strings,
  type JsonObject,
} from "./jsonFieldChecks";
import { parseMemorisationAudit } from "./reportMemorisation";

type Obj = JsonObject;

function sameLength(path: string, what: string, length: number, expected: number): void {
  if (length !== expected)
    throw new Error(`audit report: ${path} has ${length} ${what} for ${expected} groups`);
}

function attributeRepresentation(value: unknown, path: string): void {
  const o = object(value, path);
  str(o, "attribute", path);
  const k = strings(o, "groups", path).length;
  sameLength(`${path}.counts`, "counts", numbers(o, "counts", path).length, k);
  num(o, "n", path);
  sameLength(
    `${path}.proportions`,
    "proportions",
    list(o, "proportions", path, interval).length,
    k,
  );
  sameLength(`${path}.target`, "target values", numbers(o, "target", path).length, k);
  for (const key of ["bias", "totalVariation", "kl"])
    interval(present(o, key, path), `${path}.${key}`);
  num(o, "fairnessDiscrepancy", path);
  if (o.corrected !== undefined)
    sameLength(
      `${path}.corrected`,
      "corrected values",
      list(o, "corrected", path, interval).length,
      k,
    );
  optStr(o, "correctionUnavailable", path);
  if (o.classifier !== undefined) {
    const c = object(o.classifier, `${path}.classifier`);
    num(c, "accuracy", `${path}.classifier`);
    numbers(c, "perClassAccuracy", `${path}.classifier`);
    num(c, "heldOut", `${path}.classifier`);
  }
}

function promptRepresentation(value: unknown, path: string): void {
  const o = object(value, path);
  str(o, "prompt", path);
  num(o, "seed", path);
  num(o, "n", path);
  list(o, "attributes", path, attributeRepresentation);
  list(o, "intersections", path, attributeRepresentation);
  record(o, "adherence", path, (item, p) => {
    const a = object(item, p);
    str(a, "group", p);
    interval(present(a, "rate", p), `${p}.rate`);
  });
  list(o, "findings", path, (item, p) => {
    const f = object(item, p);
    str(f, "finding", p);
    interval(present(f, "positiveRate", p), `${p}.positiveRate`);
    if (f.requested !== undefined && typeof f.requested !== "boolean")
      fail(`${p}.requested`, "a boolean", f.requested);
  });
}

function fidFigure(value: unknown, path: string): void {
  const o = object(value, path);
  num(o, "value", path);
  num(o, "nGenerated", path);
  num(o, "nReal", path);
  if (o.interval !== undefined) interval(o.interval, `${path}.interval`);
}

/** KID figures are optional throughout: reports written before KID existed have none. */
function kidFigure(value: unknown, path: string): void {
  const o = object(value, path);
  num(o, "value", path);
  num(o, "nGenerated", path);
  num(o, "nReal", path);
  num(o, "subsets", path);
  if (o.interval !== undefined) interval(o.interval, `${path}.interval`);
}

function quality(value: unknown, path: string): void {
  const o = object(value, path);
  const extractor = object(present(o, "extractor", path), `${path}.extractor`);
  str(extractor, "name", `${path}.extractor`);
  str(extractor, "kind", `${path}.extractor`);
  num(extractor, "dimension", `${path}.extractor`);
  str(extractor, "description", `${path}.extractor`);
  fidFigure(present(o, "overall", path), `${path}.overall`);
  if (o.overallKid !== undefined) kidFigure(o.overallKid, `${path}.overallKid`);
  list(o, "byAttribute", path, (item, p) => {
    const g = object(item, p);
    str(g, "attribute", p);
    const k = strings(g, "groups", p).length;
    sameLength(`${p}.perGroup`, "figures", list(g, "perGroup", p, fidFigure).length, k);
    if (g.perGroupKid !== undefined)
      sameLength(`${p}.perGroupKid`, "KID figures", list(g, "perGroupKid", p, kidFigure).length, k);
    num(g, "esFid", p);
    strings(g, "notes", p);
  });
  if (o.clinical !== undefined) {
    list(o, "clinical", path, (item, p) => {
      const c = object(item, p);
      str(c, "finding", p);
      num(c, "nTrainGenerated", p);
      num(c, "nTestReal", p);
      num(c, "auc", p);
      if (c.aucInterval !== undefined) interval(c.aucInterval, `${p}.aucInterval`);
      list(c, "byAttribute", p, (entry, q) => {
        const b = object(entry, q);
        str(b, "attribute", q);
        const k = strings(b, "groups", q).length;
        sameLength(`${q}.auc`, "AUCs", numbers(b, "auc", q).length, k);
        sameLength(`${q}.n`, "sizes", numbers(b, "n", q).length, k);
        num(b, "esAuc", q);
      });
      if (c.notes !== undefined) strings(c, "notes", p);
    });
  }
  if (o.memorisation !== undefined) {
    o.memorisation = parseMemorisationAudit(o.memorisation, `${path}.memorisation`);
  }
  num(o, "elapsedMs", path);
}

function identity(o: Obj, path: string): void {
  optStr(o, "file", path);
  optStr(o, "sha256", path);
  str(o, "weightsSha256", path);
}

function manifest(value: unknown, path: string): void {
  const o = object(value, path);
  const model = object(present(o, "model", path), `${path}.model`);
  identity(model, `${path}.model`);
  optStr(model, "preset", `${path}.model`);
  optStr(model, "description", `${path}.model`);
  object(present(model, "info", `${path}.model`), `${path}.model.info`);
  const parameters = object(
    present(model, "parameters", `${path}.model`),
    `${path}.model.parameters`,
  );
  for (const key of ["textEncoder", "autoencoder", "unet"])
    num(parameters, key, `${path}.model.parameters`);
  const classifier = object(present(o, "classifier", path), `${path}.classifier`);
  identity(classifier, `${path}.classifier`);
  list(classifier, "heads", `${path}.classifier`, (item, p) => {
    const h = object(item, p);
    str(h, "task", p);
    str(h, "kind", p);
    strings(h, "classes", p);
    optNum(h, "accuracy", p);
    if (h.perClassAccuracy !== undefined) numbers(h, "perClassAccuracy", p);
    optNum(h, "heldOut", p);
  });
  object(present(classifier, "provenance", `${path}.classifier`), `${path}.classifier.provenance`);
  num(o, "seed", path);
  strings(o, "prompts", path);
  num(o, "imagesPerPrompt", path);
  strings(o, "attributes", path);
  list(o, "intersections", path, (item, p) => {
    if (!Array.isArray(item) || item.some((name) => typeof name !== "string"))
      fail(p, "an array of strings", item);
  });
  record(o, "targets", path, (item, p) => {
    const target = object(item, p);
    for (const group of Object.keys(target)) num(target, group, p);
  });
  const sampler = object(present(o, "sampler", path), `${path}.sampler`);
  str(sampler, "scheduler", `${path}.sampler`);
  for (const key of ["steps", "guidanceScale", "eta"]) num(sampler, key, `${path}.sampler`);
  num(o, "resamples", path);
  const backend = object(present(o, "backend", path), `${path}.backend`);
  str(backend, "name", `${path}.backend`);
  str(backend, "source", `${path}.backend`);
  strings(backend, "addedKernels", `${path}.backend`);
  optStr(backend, "adapter", `${path}.backend`);
  const versions = object(present(o, "versions", path), `${path}.versions`);
  for (const key of ["fairdiff", "tfjsCore", "node", "platform"])
    str(versions, key, `${path}.versions`);
  if (o.data !== undefined) {
    const data = object(o.data, `${path}.data`);
    str(data, "description", `${path}.data`);
    num(data, "images", `${path}.data`);
    str(data, "sha256", `${path}.data`);
  }
  const elapsed = object(present(o, "elapsedMs", path), `${path}.elapsedMs`);
  num(elapsed, "representation", `${path}.elapsedMs`);
  optNum(elapsed, "quality", `${path}.elapsedMs`);
  num(elapsed, "total", `${path}.elapsedMs`);
}

/**
 * Checks a parsed JSON value (or JSON text) as an audit report and returns its data, with
 * non-finite numbers restored. The input is not modified.
 */
export function parseAuditReportData(input: unknown): AuditReportData {
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw new Error(`audit report is not valid JSON: ${(error as Error).message}`);
    }
  }
  const o = object(structuredClone(value), "report");
  if (o.kind !== AUDIT_REPORT_KIND)
    throw new Error(
      `not a fairdiff audit report: kind is ${describeJson(o.kind)}, expected "${AUDIT_REPORT_KIND}"`,
    );
  if (o.schemaVersion !== AUDIT_REPORT_SCHEMA_VERSION) {
    const newer =
      typeof o.schemaVersion === "number" && o.schemaVersion > AUDIT_REPORT_SCHEMA_VERSION;
    throw new Error(
      `audit report schemaVersion ${describeJson(o.schemaVersion)} is not supported (this fairdiff reads ${AUDIT_REPORT_SCHEMA_VERSION}${newer ? "; the report is newer: update fairdiff" : ""})`,
    );
  }
  str(o, "createdAt", "report");
  if (Number.isNaN(Date.parse(o.createdAt as string)))
    fail("report.createdAt", "an ISO 8601 time", o.createdAt);
  str(o, "title", "report");
  list(o, "representation", "report", promptRepresentation);
  if (o.quality !== undefined) quality(o.quality, "report.quality");
  manifest(present(o, "manifest", "report"), "report.manifest");
  return o as unknown as AuditReportData;
}
