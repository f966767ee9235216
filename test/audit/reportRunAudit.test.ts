/**
 * runAudit end to end on a tiny model and classifier: the report holds exactly what the
 * representation audit computes, the quality audit when asked, and a manifest whose fingerprints
 * match the files and images actually used; progress covers both stages; abort stops it.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  AuditReport,
  auditRepresentation,
  modelIdentity,
  runAudit,
  sha256Images,
  type AuditProgress,
} from "../../src/audit";
import { backendInfo, useBackend } from "../../src/backend";
import { tasksFor, trainSubgroupClassifier, type SubgroupClassifier } from "../../src/classifiers";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { radiomicExtractor } from "../../src/features";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { tinyExamples, tinyModel } from "../pipeline/tinyModel";

let dir: string;
let model: LatentDiffusionModel;
let classifier: SubgroupClassifier;
let modelFile: string;
let classifierFile: string;

beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-run-audit-"));
  const original = tinyModel(tinyExamples(16));
  modelFile = path.join(dir, "tiny.fdckpt");
  await original.save(modelFile);
  model = LatentDiffusionModel.load(modelFile);
  // Same weights after a save and load: the in-memory fingerprint says so.
  expect((await modelIdentity(model)).weightsSha256).toBe(
    (await modelIdentity(original)).weightsSha256,
  );
  original.dispose();
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 96, seed: 5, imageSize: 16 });
  const samples = cohort.records.map((_, i) => cohort.sampleAt(i));
  classifier = await trainSubgroupClassifier(
    { train: samples.slice(0, 64), calibration: samples.slice(64, 80), test: samples.slice(80) },
    {
      tasks: tasksFor(cohort.attributes, cohort.findings),
      seed: 1,
      epochs: 1,
      channels: [4, 8],
      batchSize: 32,
    },
  );
  classifierFile = path.join(dir, "classifier.fdckpt");
  await classifier.save(classifierFile);
}, 120000);

afterAll(() => {
  model?.dispose();
  classifier?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const prompts = [
  "Chest Radiography image of a patient diagnosed with Pleural Effusion",
  "Chest Radiography image of a Female patient with No Finding",
];

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

test("runAudit: representation, quality and a manifest that fingerprints what was used", async () => {
  const realCohort = createSyntheticCohort({ cohort: "cxr", size: 24, seed: 8, imageSize: 16 });
  const real = realCohort.records.map((_, i) => realCohort.sampleAt(i));
  const options = {
    prompts,
    imagesPerPrompt: 4,
    seed: 3,
    intersections: [["sex", "race"]],
    targets: { sex: { Female: 0.3, Male: 0.7 } },
    generation: { steps: 3 },
    resamples: 100,
  };
  const events: AuditProgress[] = [];
  const report = await runAudit(model, classifier, {
    ...options,
    title: "tiny audit",
    modelFile,
    classifierFile,
    quality: {
      real,
      realDescription: "cxr cohort, seed 8",
      extractor: radiomicExtractor(),
      attributes: ["sex"],
      minGroupImages: 3,
    },
    onProgress: (p) => events.push(p),
  });

  // Exactly what the representation audit computes with the same options.
  const direct = await auditRepresentation(model, classifier, options);
  expect(report.representation).toEqual(direct);
  expect(report.attribute(prompts[0], "sex").target).toEqual([0.3, 0.7]);
  expect(report.attribute(prompts[1], "sex×race").groups).toHaveLength(6);

  const q = report.quality!;
  expect(q.extractor.name).toMatch(/radiomic/);
  expect(q.overall.nReal).toBe(24);
  expect(q.overall.nGenerated).toBe(24);
  expect(q.byAttribute.map((g) => g.attribute)).toEqual(["sex"]);

  const m = report.manifest;
  expect(m.model.file).toBe("tiny.fdckpt");
  expect(m.model.sha256).toBe(sha256(modelFile));
  expect(m.classifier.file).toBe("classifier.fdckpt");
  expect(m.classifier.sha256).toBe(sha256(classifierFile));
  expect(m.classifier.heads.find((h) => h.task === "sex")?.accuracy).toBe(
    classifier.evaluation.find((e) => e.task === "sex")?.accuracy,
  );
  expect(m.data).toEqual({
    description: "cxr cohort, seed 8",
    images: 24,
    sha256: await sha256Images(real.map((s) => s.image)),
  });
  expect(m.seed).toBe(3);
  expect(m.prompts).toEqual(prompts);
  expect(m.attributes).toEqual(["sex", "race", "ageBand"]);
  expect(m.intersections).toEqual([["sex", "race"]]);
  expect(m.targets).toEqual(options.targets);
  expect(m.sampler).toEqual({ scheduler: "ddim", steps: 3, guidanceScale: 3, eta: 0 });
  expect(m.resamples).toBe(100);
  expect(m.backend.name).toBe(backendInfo().name);
  expect(m.versions.node).toBe(process.version);
  expect(m.versions.fairdiff).toBe(
    (
      JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as {
        version: string;
      }
    ).version,
  );
  expect(m.elapsedMs.quality).toBeGreaterThan(0);
  expect(m.elapsedMs.total).toBeGreaterThanOrEqual(
    m.elapsedMs.representation + m.elapsedMs.quality!,
  );

  // One callback saw both stages, each reaching its total.
  const representation = events.filter((e) => e.stage === "representation");
  expect(representation.at(-1)).toEqual({ stage: "representation", done: 8, total: 8 });
  const quality = events.filter((e) => e.stage === "quality");
  expect(quality.some((e) => e.step === "generating")).toBe(true);
  expect(quality.some((e) => e.step === "features" && e.done === e.total)).toBe(true);

  // The whole report survives a JSON round trip.
  expect(AuditReport.fromJSON(JSON.parse(JSON.stringify(report))).data()).toEqual(report.data());
}, 120000);

test("runAudit stops on abort and fails early on a missing checkpoint file", async () => {
  const controller = new AbortController();
  controller.abort();
  await expect(
    runAudit(model, classifier, {
      prompts,
      imagesPerPrompt: 2,
      seed: 0,
      generation: { steps: 2 },
      signal: controller.signal,
    }),
  ).rejects.toThrow(/abort/i);
  let progressed = false;
  await expect(
    runAudit(model, classifier, {
      prompts,
      imagesPerPrompt: 2,
      seed: 0,
      modelFile: path.join(dir, "gone.fdckpt"),
      onProgress: () => (progressed = true),
    }),
  ).rejects.toThrow(/cannot read ".*gone\.fdckpt"/);
  expect(progressed).toBe(false);
}, 60000);
