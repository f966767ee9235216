/**
 * The representation audit: for each prompt, n seeded images are generated, classified by the
 * subgroup classifier, and summarised per attribute (and intersection) against a target, with
 * intervals, the confusion-corrected estimate and attribute adherence.
 */
import * as tf from "@tensorflow/tfjs-core";
import type {
  HeadEvaluation,
  HeadPrediction,
  SubgroupClassifier,
} from "../classifiers/subgroupClassifier";
import { defineAttribute, intersectAttributes, INTERSECTION_SEPARATOR } from "../data/subgroups";
import { targetToVector, uniformTarget } from "../data/targetDistribution";
import { NO_FINDING } from "../data/prompts";
import { wilsonInterval, type Interval } from "../fairness";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { generateImages, type GenerateOptions } from "../pipeline/textToImage";
import { hashString } from "../util/random";
import { attributeRepresentation, type AttributeRepresentation } from "./attributeRepresentation";
import { adherence, type Adherence } from "./promptAdherence";

export interface RepresentationAuditOptions {
  prompts: string[];
  imagesPerPrompt: number;
  seed: number;
  /** Classifier heads to audit (default: every attribute head). */
  attributes?: string[];
  /** attribute (or "a×b") → group → target probability; default uniform. */
  targets?: Record<string, Record<string, number>>;
  /** Intersections to audit, e.g. [["sex", "race"]]. */
  intersections?: string[][];
  generation?: Omit<GenerateOptions, "seed" | "signal" | "onProgress" | "firstIndex">;
  resamples?: number;
  signal?: AbortSignal;
  onProgress?: (imagesDone: number, imagesTotal: number) => void;
}

export interface FindingRate {
  finding: string;
  /** Share of images the classifier calls positive. */
  positiveRate: Interval;
  /** Whether the prompt asks for the finding (true), its absence (false), or neither. */
  requested?: boolean;
}

export interface PromptRepresentation {
  prompt: string;
  /** Seed of this prompt's images (derived from the audit seed and the prompt). */
  seed: number;
  n: number;
  attributes: AttributeRepresentation[];
  intersections: AttributeRepresentation[];
  /** attribute → adherence, for attributes the prompt names. */
  adherence: Record<string, Adherence>;
  findings: FindingRate[];
}

/**
 * Whether a prompt asks for a finding ("… diagnosed with Pleural Effusion") or its absence ("non
 * …", or "… with No Finding" for every finding); undefined where it says neither.
 */
export function requestedFinding(prompt: string, finding: string): boolean | undefined {
  const lower = prompt.toLowerCase();
  const name = finding.toLowerCase();
  if (lower.includes(`non ${name}`) || lower.includes(`non-${name}`)) return false;
  if (lower.includes(NO_FINDING.toLowerCase())) return false;
  return lower.includes(name) ? true : undefined;
}

export function promptSeed(auditSeed: number, prompt: string): number {
  return (Math.imul(auditSeed >>> 0, 0x9e3779b1) ^ hashString(prompt)) >>> 0;
}

function targetVector(
  name: string,
  groups: readonly string[],
  targets: Record<string, Record<string, number>> | undefined,
): number[] {
  const attribute = name.includes(INTERSECTION_SEPARATOR)
    ? { name, groups }
    : defineAttribute(name, groups);
  const given = targets?.[name];
  return targetToVector(attribute, given ?? uniformTarget(attribute));
}

function intersectionPrediction(heads: HeadPrediction[], names: string[]): HeadPrediction {
  const parts = names.map((name) => {
    const head = heads.find((h) => h.task === name);
    if (!head)
      throw new Error(
        `no classifier head "${name}" for the intersection ${names.join(INTERSECTION_SEPARATOR)}`,
      );
    return head;
  });
  const attribute = intersectAttributes(...parts.map((p) => defineAttribute(p.task, p.classes)));
  const n = parts[0].predicted.length;
  const k = attribute.groups.length;
  const predicted = new Int32Array(n);
  const probabilities = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    // Joint probability under the heads' independence; the arg-max is the heads' joint arg-max.
    let index = 0;
    for (const p of parts) index = index * p.classes.length + p.predicted[i];
    predicted[i] = index;
    for (let g = 0; g < k; g++) {
      let rest = g;
      let prob = 1;
      for (let j = parts.length - 1; j >= 0; j--) {
        const kj = parts[j].classes.length;
        prob *= parts[j].probabilities[i * kj + (rest % kj)];
        rest = Math.floor(rest / kj);
      }
      probabilities[i * k + g] = prob;
    }
  }
  return { task: attribute.name, classes: [...attribute.groups], predicted, probabilities };
}

/** What the statistics need of the classifier: its heads and their held-out evaluation. */
export interface RepresentationHeads {
  /** The attribute heads audited, in report order. */
  attributes: { name: string; classes: string[]; evaluation?: HeadEvaluation }[];
  findings: { name: string; classes: string[] }[];
}

/** The heads of `classifier` an audit of `attributes` (default: every attribute head) reads. */
export function representationHeads(
  classifier: SubgroupClassifier,
  attributes?: readonly string[],
): RepresentationHeads {
  const names =
    attributes ?? classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
  return {
    attributes: names.map((name) => {
      const task = classifier.task(name);
      const evaluation = classifier.evaluation.find((e) => e.task === name);
      return {
        name,
        classes: [...task.classes],
        ...(evaluation ? { evaluation: structuredClone(evaluation) } : {}),
      };
    }),
    findings: classifier.tasks
      .filter((t) => t.kind === "finding")
      .map((t) => ({ name: t.name, classes: [...t.classes] })),
  };
}

/** How one prompt's images are summarised: the settings behind every figure. */
export interface RepresentationStatisticsOptions {
  heads: RepresentationHeads;
  targets?: Record<string, Record<string, number>>;
  intersections?: readonly (readonly string[])[];
  resamples?: number;
}

/**
 * A prompt's images in batches of the generation batch size: the unit of work of an audit, so
 * that a shard, a worker or one process generate and classify every image in the same batch.
 */
export function promptBatches(n: number, batchSize: number): { start: number; count: number }[] {
  const batches: { start: number; count: number }[] = [];
  for (let start = 0; start < n; start += batchSize) {
    batches.push({ start, count: Math.min(batchSize, n - start) });
  }
  return batches;
}

export interface PromptBatchOptions {
  prompt: string;
  /** The prompt's seed (`promptSeed`). */
  seed: number;
  start: number;
  count: number;
  generation?: RepresentationAuditOptions["generation"];
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

/**
 * Images start … start+count−1 of a prompt, generated (seeded by their index, whatever the
 * batch) and classified as one batch: every head's predictions, in image order.
 */
export async function classifyPromptBatch(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: PromptBatchOptions,
): Promise<HeadPrediction[]> {
  if (options.signal?.aborted) throw new Error("representation audit aborted");
  const images = await generateImages(
    model,
    new Array<string>(options.count).fill(options.prompt),
    {
      ...options.generation,
      batchSize: options.count,
      seed: options.seed,
      firstIndex: options.start,
      signal: options.signal,
      onProgress: (done) => options.onProgress?.(done),
    },
  );
  try {
    return await classifier.predict(images);
  } finally {
    tf.dispose(images);
  }
}

/** One head's predictions over several batches, in order. */
export function concatHeadPredictions(batches: readonly HeadPrediction[][]): HeadPrediction[] {
  if (batches.length === 0) throw new Error("no batches of predictions to join");
  return batches[0].map((head, h) => {
    const parts = batches.map((batch) => batch[h]);
    for (const part of parts) {
      if (part.task !== head.task) {
        throw new Error(`batches disagree on head ${h}: "${head.task}" vs "${part.task}"`);
      }
    }
    const n = parts.reduce((sum, p) => sum + p.predicted.length, 0);
    const predicted = new Int32Array(n);
    const probabilities = new Float32Array(n * head.classes.length);
    let at = 0;
    for (const part of parts) {
      predicted.set(part.predicted, at);
      probabilities.set(part.probabilities, at * head.classes.length);
      at += part.predicted.length;
    }
    return { task: head.task, classes: [...head.classes], predicted, probabilities };
  });
}

function headOf(heads: readonly HeadPrediction[], name: string): HeadPrediction {
  const head = heads.find((h) => h.task === name);
  if (!head) throw new Error(`no predictions of the classifier head "${name}"`);
  return head;
}

/** A prompt's summary — counts, intervals, targets, adherence, findings — from its predictions. */
export function promptRepresentation(
  prompt: string,
  seed: number,
  heads: readonly HeadPrediction[],
  options: RepresentationStatisticsOptions,
): PromptRepresentation {
  const n = heads[0]?.predicted.length ?? 0;
  const attributes = options.heads.attributes.map((task) => {
    const head = headOf(heads, task.name);
    const evaluation = task.evaluation;
    const representation = attributeRepresentation({
      attribute: task.name,
      groups: task.classes,
      predicted: head.predicted,
      probabilities: head.probabilities,
      target: targetVector(task.name, task.classes, options.targets),
      confusion: evaluation?.confusion,
      seed: seed ^ hashString(task.name),
      resamples: options.resamples,
    });
    if (evaluation) {
      representation.classifier = {
        accuracy: evaluation.accuracy,
        perClassAccuracy: evaluation.perClassAccuracy,
        heldOut: evaluation.n,
      };
    }
    return representation;
  });
  const intersections = (options.intersections ?? []).map((names) => {
    const joint = intersectionPrediction([...heads], [...names]);
    return attributeRepresentation({
      attribute: joint.task,
      groups: joint.classes,
      predicted: joint.predicted,
      probabilities: joint.probabilities,
      target: targetVector(joint.task, joint.classes, options.targets),
      seed: seed ^ hashString(joint.task),
      resamples: options.resamples,
    });
  });
  const adherenceByAttribute: Record<string, Adherence> = {};
  for (const task of options.heads.attributes) {
    const a = adherence(prompt, task.classes, headOf(heads, task.name).predicted);
    if (a) adherenceByAttribute[task.name] = a;
  }
  const findings = options.heads.findings.map((task) => {
    const head = headOf(heads, task.name);
    const positives = head.predicted.reduce((s, v) => s + (v === 1 ? 1 : 0), 0);
    return {
      finding: task.name,
      positiveRate: wilsonInterval(positives, n),
      requested: requestedFinding(prompt, task.name),
    };
  });
  return {
    prompt,
    seed,
    n,
    attributes,
    intersections,
    adherence: adherenceByAttribute,
    findings,
  };
}

/** Checks the options every representation audit (whole or sharded) starts from. */
export function checkRepresentationOptions(
  options: Pick<RepresentationAuditOptions, "imagesPerPrompt" | "prompts" | "generation">,
): void {
  const n = options.imagesPerPrompt;
  if (!Number.isInteger(n) || n < 2)
    throw new Error(`imagesPerPrompt must be an integer ≥ 2, got ${n}`);
  if (options.prompts.length === 0) throw new Error("no prompts to audit");
  const batchSize = options.generation?.batchSize ?? DEFAULT_GENERATION_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`generation.batchSize must be a positive integer, got ${batchSize}`);
}

/** Images per generation (and classification) batch unless told: generateImages' default. */
export const DEFAULT_GENERATION_BATCH = 32;

export async function auditRepresentation(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RepresentationAuditOptions,
): Promise<PromptRepresentation[]> {
  checkRepresentationOptions(options);
  const n = options.imagesPerPrompt;
  const heads = representationHeads(classifier, options.attributes);
  const batchSize = options.generation?.batchSize ?? DEFAULT_GENERATION_BATCH;
  const total = n * options.prompts.length;
  const results: PromptRepresentation[] = [];
  for (const [p, prompt] of options.prompts.entries()) {
    const seed = promptSeed(options.seed, prompt);
    const batches: HeadPrediction[][] = [];
    for (const { start, count } of promptBatches(n, batchSize)) {
      batches.push(
        await classifyPromptBatch(model, classifier, {
          prompt,
          seed,
          start,
          count,
          generation: options.generation,
          signal: options.signal,
          onProgress: (done) => options.onProgress?.(p * n + start + done, total),
        }),
      );
    }
    results.push(
      promptRepresentation(prompt, seed, concatHeadPredictions(batches), {
        heads,
        targets: options.targets,
        intersections: options.intersections,
        resamples: options.resamples,
      }),
    );
  }
  return results;
}
