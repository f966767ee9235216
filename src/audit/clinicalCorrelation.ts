/**
 * Clinical semantic correlation (FairDiffusion): do generated images carry the clinical signal
 * of real ones? A finding classifier is trained ONLY on generated images — labelled by the
 * finding their prompt asked for — and tested on real images with their true labels: AUC overall,
 * per group of each attribute, and ES-AUC = AUC / (1 + Σ_g |AUC_g − AUC|).
 *
 * The classifier is fairdiff's subgroup-classifier network with a single finding head (a small
 * strided CNN, seeded, a few epochs: this is a probe of the generated data, not a diagnostic
 * model). A group whose real images lack either class has no AUC (NaN, with a note) and is left
 * out of ES-AUC.
 */
import type { ClassificationTask } from "../classifiers/classificationTask";
import { FINDING_CLASSES } from "../classifiers/classificationTask";
import { trainSubgroupClassifier } from "../classifiers/trainSubgroupClassifier";
import type { MedicalSample } from "../data/medicalSample";
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import { rocAuc } from "../fairness/auc";
import { percentileBootstrap } from "../fairness/bootstrap";
import { equityScaledAuc } from "../fairness/equityScaled";
import type { RasterImage } from "../io/rasterImage";
import { hashString } from "../util/random";
import type { ClinicalCorrelation } from "./qualityTypes";

export interface ClinicalOptions {
  /** Findings to probe (default: every finding labelled in both the generated and real sets). */
  findings?: string[];
  /** Seed of the classifier and its bootstrap (default: derived from the audit's seed). */
  seed?: number;
  /** Training epochs over the generated images (default 10). */
  epochs?: number;
  /** Convolution channels (default [8, 16, 32]). */
  channels?: number[];
  batchSize?: number;
  learningRate?: number;
  /** Bootstrap resamples of the real test images for the AUC interval (default 500; 0 = none). */
  resamples?: number;
}

export interface ClinicalInput {
  generated: { images: RasterImage[]; labels: readonly Readonly<Record<string, number>>[] };
  real: {
    images: RasterImage[];
    labels: readonly Readonly<Record<string, number>>[];
    attributes: readonly GroupAssignment[];
  };
  /** Attributes (with their groups, in report order) to break the AUC down by. */
  attributes: readonly SensitiveAttribute[];
}

const DEFAULT_EPOCHS = 10;
const DEFAULT_CHANNELS = [8, 16, 32];
const DEFAULT_RESAMPLES = 500;

function labelled(labels: readonly Readonly<Record<string, number>>[], finding: string): number[] {
  const rows: number[] = [];
  labels.forEach((l, i) => {
    if (l[finding] === 0 || l[finding] === 1) rows.push(i);
  });
  return rows;
}

function hasBothClasses(labels: ArrayLike<number>): boolean {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  return positives > 0 && positives < labels.length;
}

/** The findings labelled in both sets, in first-seen order. */
export function sharedFindings(input: ClinicalInput): string[] {
  const seen = (labels: readonly Readonly<Record<string, number>>[]) =>
    new Set(labels.flatMap((l) => Object.keys(l)));
  const generated = seen(input.generated.labels);
  return [...seen(input.real.labels)].filter((f) => generated.has(f));
}

export async function clinicalCorrelation(
  input: ClinicalInput,
  options: ClinicalOptions & { seed: number; signal?: AbortSignal },
): Promise<ClinicalCorrelation[]> {
  const findings = options.findings ?? sharedFindings(input);
  if (findings.length === 0) {
    throw new Error(
      "clinical correlation: no finding is labelled in both the generated images (from their prompts) and the real images",
    );
  }
  const results: ClinicalCorrelation[] = [];
  for (const finding of findings) {
    results.push(await oneFinding(input, finding, options));
  }
  return results;
}

async function oneFinding(
  input: ClinicalInput,
  finding: string,
  options: ClinicalOptions & { seed: number; signal?: AbortSignal },
): Promise<ClinicalCorrelation> {
  const seed = (options.seed ^ hashString(`clinical:${finding}`)) >>> 0;
  const trainRows = labelled(input.generated.labels, finding);
  const testRows = labelled(input.real.labels, finding);
  const trainLabels = trainRows.map((i) => input.generated.labels[i][finding]);
  const testLabels = testRows.map((i) => input.real.labels[i][finding]);
  const notes: string[] = [];
  const empty = (): ClinicalCorrelation => ({
    finding,
    nTrainGenerated: trainRows.length,
    nTestReal: testRows.length,
    auc: Number.NaN,
    byAttribute: [],
    notes,
  });
  if (!hasBothClasses(trainLabels)) {
    notes.push(
      `"${finding}": the generated images' prompts do not ask for both presence and absence (${trainRows.length} labelled); no classifier trained`,
    );
    return empty();
  }
  if (!hasBothClasses(testLabels)) {
    notes.push(
      `"${finding}": the real images do not have both classes (${testRows.length} labelled)`,
    );
    return empty();
  }
  const task: ClassificationTask = {
    name: finding,
    kind: "finding",
    classes: [...FINDING_CLASSES],
  };
  const train: MedicalSample[] = trainRows.map((i, k) => ({
    id: `generated-${i}`,
    attributes: {},
    labels: { [finding]: trainLabels[k] },
    prompt: "",
    details: {},
    image: input.generated.images[i],
  }));
  const classifier = await trainSubgroupClassifier(
    { train, calibration: [], test: [] },
    {
      tasks: [task],
      seed,
      epochs: options.epochs ?? DEFAULT_EPOCHS,
      channels: options.channels ?? DEFAULT_CHANNELS,
      batchSize: options.batchSize ?? 32,
      learningRate: options.learningRate,
      signal: options.signal,
      provenance: { purpose: "clinical semantic correlation", trainedOn: "generated images" },
    },
  );
  let scores: Float64Array;
  try {
    const [head] = await classifier.predict(testRows.map((i) => input.real.images[i]));
    scores = Float64Array.from(testRows, (_, k) => head.probabilities[k * 2 + 1]);
  } finally {
    classifier.dispose();
  }
  const auc = rocAuc(scores, testLabels);
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const aucInterval =
    resamples > 0
      ? percentileBootstrap(
          testRows.length,
          (indices) => {
            const s = Array.from(indices, (k) => scores[k]);
            const l = Array.from(indices, (k) => testLabels[k]);
            return hasBothClasses(l) ? rocAuc(s, l) : Number.NaN;
          },
          { seed, resamples },
        )
      : undefined;
  const byAttribute = input.attributes.map((attribute) => {
    const groups = [...attribute.groups];
    const aucs: number[] = [];
    const sizes: number[] = [];
    for (const group of groups) {
      const members: number[] = [];
      testRows.forEach((row, k) => {
        if (input.real.attributes[row][attribute.name] === group) members.push(k);
      });
      sizes.push(members.length);
      const l = members.map((k) => testLabels[k]);
      if (hasBothClasses(l)) {
        aucs.push(
          rocAuc(
            members.map((k) => scores[k]),
            l,
          ),
        );
      } else {
        aucs.push(Number.NaN);
        notes.push(
          `"${finding}" AUC for ${attribute.name} = ${group}: ${members.length} real images without both classes; left out of ES-AUC`,
        );
      }
    }
    const finite: Record<string, number> = {};
    groups.forEach((g, k) => {
      if (Number.isFinite(aucs[k])) finite[g] = aucs[k];
    });
    const esAuc = Object.keys(finite).length > 0 ? equityScaledAuc(auc, finite) : Number.NaN;
    return { attribute: attribute.name, groups, auc: aucs, n: sizes, esAuc };
  });
  return {
    finding,
    nTrainGenerated: trainRows.length,
    nTestReal: testRows.length,
    auc,
    ...(aucInterval ? { aucInterval } : {}),
    byAttribute,
    notes,
  };
}
