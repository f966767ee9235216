/**
 * A report built from real metric computations on known predictions (no model needed): two
 * prompts — one of them, and one group name, hostile HTML — a sex × race intersection, findings,
 * a quality section with a group whose FID and KID could not be computed (NaN), KID with
 * half-sampling intervals (one below zero), and a manifest.
 */
import {
  attributeRepresentation,
  AuditReport,
  type AuditReportInput,
  type PromptRepresentation,
  type RunManifest,
} from "../../src/audit";
import { wilsonInterval } from "../../src/fairness";
import type { QualityAudit } from "../../src/audit/qualityTypes";

export const HOSTILE = "<img src=x onerror=alert(1)>";
export const NEUTRAL_PROMPT =
  "Chest Radiography image of a patient diagnosed with Pleural Effusion";

function predictions(counts: number[]): { predicted: Int32Array; probabilities: Float32Array } {
  const k = counts.length;
  const predicted = Int32Array.from(counts.flatMap((c, g) => new Array<number>(c).fill(g)));
  const probabilities = new Float32Array(predicted.length * k);
  predicted.forEach((g, i) => {
    for (let j = 0; j < k; j++) probabilities[i * k + j] = j === g ? 0.9 : 0.1 / (k - 1);
  });
  return { predicted, probabilities };
}

function promptResult(prompt: string, sexCounts: number[], raceGroups: string[]) {
  const n = sexCounts[0] + sexCounts[1];
  const sex = attributeRepresentation({
    attribute: "sex",
    groups: ["Female", "Male"],
    ...predictions(sexCounts),
    target: [0.5, 0.5],
    confusion: [
      [95, 5],
      [3, 97],
    ],
    seed: 1,
    resamples: 300,
  });
  sex.classifier = { accuracy: 0.96, perClassAccuracy: [0.95, 0.97], heldOut: 200 };
  const raceCounts = [Math.floor(n / 4), Math.floor(n / 4)];
  raceCounts.push(n - raceCounts[0] - raceCounts[1]);
  const race = attributeRepresentation({
    attribute: "race",
    groups: raceGroups,
    ...predictions(raceCounts),
    target: [1 / 3, 1 / 3, 1 / 3],
    seed: 2,
    resamples: 300,
  });
  const jointGroups = ["Female", "Male"].flatMap((s) => raceGroups.map((r) => `${s}×${r}`));
  const joint = attributeRepresentation({
    attribute: "sex×race",
    groups: jointGroups,
    ...predictions([2, 3, 5, 10, 10, n - 30]),
    target: jointGroups.map(() => 1 / 6),
    seed: 3,
    resamples: 300,
  });
  const result: PromptRepresentation = {
    prompt,
    seed: 42,
    n,
    attributes: [sex, race],
    intersections: [joint],
    adherence: {},
    findings: [
      { finding: "Pleural Effusion", positiveRate: wilsonInterval(n - 2, n), requested: true },
      { finding: "Cardiomegaly", positiveRate: wilsonInterval(5, n) },
    ],
  };
  return result;
}

function kid(value: number, lower: number, upper: number, nGenerated: number, nReal: number) {
  return {
    value,
    nGenerated,
    nReal,
    subsets: 100,
    interval: {
      estimate: value,
      lower,
      upper,
      level: 0.95,
      n: nGenerated + nReal,
      method: "half-sampling (⌊m/2⌋ generated and ⌊n/2⌋ real rows, without replacement)",
      resamples: 100,
      seed: 17,
    },
  };
}

export function fixtureQuality(groups: string[]): QualityAudit {
  return {
    extractor: {
      name: "radiomic-v1",
      kind: "radiomic",
      dimension: 64,
      description: "first-order, GLCM and shape features",
    },
    overall: { value: 12.5, nGenerated: 128, nReal: 256 },
    overallKid: kid(0.00412, 0.00231, 0.00608, 128, 256),
    byAttribute: [
      {
        attribute: "sex",
        groups: ["Female", "Male"],
        perGroup: [
          {
            value: 15.25,
            nGenerated: 20,
            nReal: 100,
            interval: {
              estimate: 15.25,
              lower: 11,
              upper: 19.5,
              level: 0.95,
              n: 20,
              method: "percentile-bootstrap",
              resamples: 200,
              seed: 9,
            },
          },
          { value: 11.5, nGenerated: 108, nReal: 156 },
        ],
        perGroupKid: [kid(0.0061, 0.0012, 0.0113, 20, 100), kid(0.0035, 0.0018, 0.0052, 108, 156)],
        esFid: 12.5 + 2.75 + 1,
        notes: [],
      },
      {
        attribute: "race",
        groups,
        perGroup: [
          { value: NaN, nGenerated: 1, nReal: 40 },
          { value: 13, nGenerated: 30, nReal: 60 },
          { value: 12, nGenerated: 97, nReal: 156 },
        ],
        perGroupKid: [
          { value: NaN, nGenerated: 1, nReal: 40, subsets: 0 },
          kid(-0.0004, -0.0031, 0.0022, 30, 60),
          kid(0.0042, 0.0021, 0.0064, 97, 156),
        ],
        esFid: NaN,
        notes: [`${groups[0]}: 1 generated image, too few for a covariance`],
      },
    ],
    clinical: [
      {
        finding: "Pleural Effusion",
        nTrainGenerated: 128,
        nTestReal: 256,
        auc: 0.91,
        byAttribute: [
          {
            attribute: "sex",
            groups: ["Female", "Male"],
            auc: [0.88, 0.93],
            n: [100, 156],
            esAuc: 0.91 / (1 + 0.03 + 0.02),
          },
        ],
      },
    ],
    elapsedMs: 1234,
  };
}

export function fixtureManifest(prompts: string[]): RunManifest {
  return {
    model: {
      file: `model-${HOSTILE}.fdckpt`,
      sha256: "a".repeat(64),
      weightsSha256: "b".repeat(64),
      preset: "cxr-mini",
      description: "Chest radiographs 32×32",
      info: { preset: "cxr-mini", steps: 2400 },
      parameters: { textEncoder: 69000, autoencoder: 196000, unet: 1460000 },
    },
    classifier: {
      file: "cxr-classifier.fdckpt",
      sha256: "c".repeat(64),
      weightsSha256: "d".repeat(64),
      heads: [
        {
          task: "sex",
          kind: "attribute",
          classes: ["Female", "Male"],
          accuracy: 0.96,
          perClassAccuracy: [0.95, 0.97],
          heldOut: 200,
        },
        { task: "race", kind: "attribute", classes: ["Asian", "Black", "White"] },
      ],
      provenance: { cohort: "cxr" },
    },
    seed: 0,
    prompts,
    imagesPerPrompt: 64,
    attributes: ["sex", "race"],
    intersections: [["sex", "race"]],
    targets: { sex: { Female: 0.5, Male: 0.5 } },
    sampler: { scheduler: "ddim", steps: 20, guidanceScale: 3, eta: 0 },
    resamples: 300,
    backend: { name: "wasm", source: "@tensorflow/tfjs-backend-wasm", addedKernels: [] },
    versions: { fairdiff: "0.1.0", tfjsCore: "4.22.0", node: "v20.0.0", platform: "linux-x64" },
    data: { description: "cxr cohort, seed 99", images: 256, sha256: "e".repeat(64) },
    elapsedMs: { representation: 61000, quality: 1234, total: 62500 },
  };
}

/** Race groups with long names, as some datasets spell them (intersections get longer still). */
export const LONG_RACE_GROUPS = [
  "Asian",
  "Black or African American",
  "Native Hawaiian or Other Pacific Islander",
];

/**
 * Two prompts (the second hostile), race groups with a hostile name (or the ones given), quality
 * included.
 */
export function fixtureInput(
  withQuality = true,
  raceGroups = ["Asian", HOSTILE, "White"],
): AuditReportInput {
  const prompts = [NEUTRAL_PROMPT, `${HOSTILE} | *bold* [link](x)`];
  return {
    representation: [
      promptResult(prompts[0], [9, 55], raceGroups),
      promptResult(prompts[1], [30, 34], raceGroups),
    ],
    ...(withQuality ? { quality: fixtureQuality(raceGroups) } : {}),
    manifest: withQuality
      ? fixtureManifest(prompts)
      : {
          ...fixtureManifest(prompts),
          data: undefined,
          elapsedMs: { representation: 61000, total: 61000 },
        },
    title: `Audit of ${HOSTILE}`,
    createdAt: new Date("2025-01-02T03:04:05Z"),
  };
}

export function fixtureReport(withQuality = true, raceGroups?: string[]): AuditReport {
  return AuditReport.create(fixtureInput(withQuality, raceGroups));
}
