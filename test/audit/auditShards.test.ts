/**
 * Sharded audits (issue #23): three shards of an audit — representation with intersections and
 * targets, and the quality audit with FID and KID intervals, the clinical probe and the
 * memorisation audit — each written to JSON and read back, merge into exactly the report of the
 * whole audit (timing fields aside). Every shard holds work, units are split once each, and
 * merge refuses a missing or repeated shard and parts of another audit; a damaged part is refused
 * with the field named.
 */
import {
  AuditReport,
  auditPartToJson,
  auditUnits,
  loadAuditPart,
  mergeAuditParts,
  parseAuditPart,
  parseShard,
  prepareAudit,
  runAudit,
  runAuditShard,
  shardUnits,
  type AuditPart,
  type RunAuditOptions,
} from "../../src/audit";
import { labelledImagesFromSamples } from "../../src/audit/qualityImageSet";
import { useBackend } from "../../src/backend";
import { tasksFor, trainSubgroupClassifier, type SubgroupClassifier } from "../../src/classifiers";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { radiomicExtractor } from "../../src/features";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { tinyExamples, tinyModel } from "../pipeline/tinyModel";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

let model: LatentDiffusionModel;
let classifier: SubgroupClassifier;
let options: RunAuditOptions;
let dir: string;

function cohort(size: number, seed: number) {
  const c = createSyntheticCohort({ cohort: "cxr", size, seed, imageSize: 16 });
  return c.records.map((_, i) => c.sampleAt(i));
}

beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-shards-"));
  model = tinyModel(tinyExamples(16));
  const samples = cohort(96, 5);
  classifier = await trainSubgroupClassifier(
    { train: samples.slice(0, 64), calibration: samples.slice(64, 80), test: samples.slice(80) },
    {
      tasks: tasksFor(
        createSyntheticCohort({ cohort: "cxr", size: 1, seed: 0, imageSize: 16 }).attributes,
        ["Pleural Effusion"],
      ),
      seed: 1,
      epochs: 1,
      channels: [4, 8],
      batchSize: 32,
    },
  );
  options = {
    prompts: [
      "Chest Radiography image of a patient diagnosed with Pleural Effusion",
      "Chest Radiography image of a Female patient with No Finding",
    ],
    imagesPerPrompt: 7,
    seed: 3,
    intersections: [["sex", "race"]],
    targets: { sex: { Female: 0.3, Male: 0.7 } },
    // Batches of 3: several units per prompt, one of them short.
    generation: { steps: 2, batchSize: 3 },
    resamples: 200,
    quality: {
      real: cohort(30, 8),
      realDescription: "cxr cohort, seed 8",
      extractor: radiomicExtractor(),
      attributes: ["sex", "race"],
      minGroupImages: 3,
      bootstrap: { resamples: 20 },
      clinical: { epochs: 1, resamples: 20 },
      memorisation: { training: labelledImagesFromSamples(cohort(60, 5)), pairs: 3 },
    },
  };
}, 120000);

afterAll(() => {
  model?.dispose();
  classifier?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The report's figures: its JSON less creation time and the timing fields. */
function figures(report: AuditReport): unknown {
  return JSON.parse(
    JSON.stringify(report.toJSON(), (key, value: unknown) =>
      key === "elapsedMs" || key === "createdAt" ? undefined : value,
    ),
  );
}

/** A part through JSON text and back, as a file or a queue carries it. */
function roundTrip(part: AuditPart, name: string): AuditPart {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(auditPartToJson(part)));
  return loadAuditPart(file);
}

test("three shards, through JSON, merge into exactly the whole audit's report", async () => {
  const whole = await runAudit(model, classifier, options);
  const parts: AuditPart[] = [];
  for (const index of [1, 2, 3]) {
    parts.push(
      roundTrip(
        await runAuditShard(model, classifier, options, { index, count: 3 }),
        `part-${index}.json`,
      ),
    );
  }
  // Every shard holds work; each prompt batch and counterpart batch is in one part only.
  for (const part of parts) {
    expect(part.representation.length + part.quality!.batches.length).toBeGreaterThan(0);
  }
  const keys = parts.flatMap((p) => p.representation.map((b) => `${b.prompt}:${b.start}`));
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys).toHaveLength(2 * 3);
  expect(
    parts.flatMap((p) => p.quality!.batches.map((b) => b.start)).sort((a, b) => a - b),
  ).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  expect(parts.filter((p) => p.quality!.reference)).toHaveLength(1);

  // Merged in any order: the same report, figure for figure.
  const merged = await mergeAuditParts([parts[2], parts[0], parts[1]]);
  expect(figures(merged)).toEqual(figures(whole));
  // Spot checks that the comparison covers what the issue names.
  const q = merged.quality!;
  expect(q.overall.value).toBe(whole.quality!.overall.value);
  expect(q.overall.interval).toEqual(whole.quality!.overall.interval);
  expect(q.overallKid).toEqual(whole.quality!.overallKid);
  expect(q.clinical).toEqual(whole.quality!.clinical);
  expect(q.memorisation!.pairs.map((p) => p.generatedIndex)).toEqual(
    whole.quality!.memorisation!.pairs.map((p) => p.generatedIndex),
  );
  expect(q.memorisation!.pairs.length).toBe(3);
  const sex = merged.attribute(options.prompts[0], "sex");
  expect(sex.counts.reduce((a, b) => a + b, 0)).toBe(7);
  expect(sex.bias).toEqual(whole.attribute(options.prompts[0], "sex").bias);
  expect(merged.manifest.elapsedMs.representation).toBeGreaterThan(0);

  // Refusals, before any statistics.
  await expect(mergeAuditParts([parts[0], parts[2]])).rejects.toThrow(/^shard 2\/3 missing$/);
  await expect(mergeAuditParts([parts[0], parts[1], parts[1], parts[2]])).rejects.toThrow(
    /shard 2\/3 given twice/,
  );
  await expect(mergeAuditParts([])).rejects.toThrow(/no audit parts/);
  const otherSeed = await prepareAudit(model, classifier, {
    ...options,
    seed: 4,
    quality: undefined,
  });
  try {
    const other = await otherSeed.runShard({ index: 2, count: 3 });
    await expect(mergeAuditParts([parts[0], other, parts[2]])).rejects.toThrow(
      /parts come from different audits: seed 3 vs 4/,
    );
  } finally {
    otherSeed.dispose();
  }
}, 300000);

test("units are split once each, in consecutive runs within a unit of even; bad shard specs are named", async () => {
  const prepared = await prepareAudit(model, classifier, { ...options, imagesPerPrompt: 40 });
  try {
    const units = auditUnits(prepared.settings);
    // The real side first, then 14 batches per prompt, then 10 counterpart batches.
    expect(units[0]).toEqual({ kind: "reference" });
    expect(units).toHaveLength(1 + 2 * 14 + 10);
    for (const count of [1, 2, 3, 7, 50]) {
      const shards = Array.from({ length: count }, (_, i) =>
        shardUnits(units, { index: i + 1, count }),
      );
      expect(shards.flat()).toEqual(units);
      const images = shards.map((s) =>
        s.reduce((n, u) => n + (u.kind === "reference" ? 0 : u.count), 0),
      );
      // Each shard's images are within one unit (3 images) of 1/count of them.
      if (count <= 7) expect(Math.max(...images) - Math.min(...images)).toBeLessThan(2 * 3);
    }
  } finally {
    prepared.dispose();
  }
  expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
  expect(() => parseShard("4/3")).toThrow(
    /--shard "4\/3": the shard index must be an integer in 1 … 3, got 4/,
  );
  expect(() => parseShard("two")).toThrow(/--shard must look like i\/n \(e\.g\. 2\/3\), got "two"/);
  expect(() => parseShard("1/0")).toThrow(/shard count must be an integer ≥ 1/);
}, 120000);

test("a damaged or foreign part is refused, naming the field", async () => {
  const part = await runAuditShard(
    model,
    classifier,
    { ...options, quality: undefined },
    { index: 1, count: 2 },
  );
  const json = () => JSON.parse(JSON.stringify(auditPartToJson(part)));
  expect(parseAuditPart(json(), "p.json").representation).toEqual(part.representation);

  const edited = json();
  edited.representation[0].heads[0].probabilities.length = 1;
  expect(() => parseAuditPart(edited, "p.json")).toThrow(
    /^p\.json: representation\[0\]\.heads\[0\]\.probabilities has 1 values; expected \d+$/,
  );
  const truncated = json();
  truncated.representation[0].heads[1].predicted.base64 = "AAAA";
  expect(() => parseAuditPart(truncated, "p.json")).toThrow(
    /p\.json: representation\[0\]\.heads\[1\]\.predicted holds 3 bytes/,
  );
  const tampered = json();
  tampered.settings.seed = 99;
  expect(() => parseAuditPart(tampered, "p.json")).toThrow(/settings do not match its fingerprint/);
  expect(() => parseAuditPart({ ...json(), kind: "fairdiff.audit-report" }, "p.json")).toThrow(
    /not an audit part \(kind "fairdiff\.audit-report"/,
  );
  expect(() => parseAuditPart({ ...json(), schemaVersion: 7 }, "p.json")).toThrow(
    /schema version 7; this fairdiff reads version 1/,
  );
  const missing = json();
  delete missing.representation[0].start;
  expect(() => parseAuditPart(missing, "p.json")).toThrow(
    /p\.json: representation\[0\]\.start is missing/,
  );
}, 120000);
