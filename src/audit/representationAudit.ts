/**
 * The representation audit: for each prompt, n seeded images are generated, classified by the
 * subgroup classifier, and summarised per attribute (and intersection) against a target, with
 * intervals, the confusion-corrected estimate and attribute adherence.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { HeadPrediction, SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute, intersectAttributes, INTERSECTION_SEPARATOR } from "../data/subgroups";
import { targetToVector, uniformTarget } from "../data/targetDistribution";
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

/** Whether a prompt asks for a finding ("… with Pleural Effusion") or its absence ("non …"). */
export function requestedFinding(prompt: string, finding: string): boolean | undefined {
  const lower = prompt.toLowerCase();
  const name = finding.toLowerCase();
  if (lower.includes(`non ${name}`) || lower.includes(`non-${name}`)) return false;
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

export async function auditRepresentation(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  options: RepresentationAuditOptions,
): Promise<PromptRepresentation[]> {
  const n = options.imagesPerPrompt;
  if (!Number.isInteger(n) || n < 2)
    throw new Error(`imagesPerPrompt must be an integer ≥ 2, got ${n}`);
  if (options.prompts.length === 0) throw new Error("no prompts to audit");
  const attributeHeads = (
    options.attributes ?? classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name)
  ).map((name) => classifier.task(name));
  const findingHeads = classifier.tasks.filter((t) => t.kind === "finding");
  const total = n * options.prompts.length;
  const results: PromptRepresentation[] = [];
  for (const [p, prompt] of options.prompts.entries()) {
    const seed = promptSeed(options.seed, prompt);
    const images = await generateImages(model, new Array<string>(n).fill(prompt), {
      ...options.generation,
      seed,
      signal: options.signal,
      onProgress: (done) => options.onProgress?.(p * n + done, total),
    });
    let heads: HeadPrediction[];
    try {
      heads = await classifier.predict(images);
    } finally {
      tf.dispose(images);
    }
    const evaluationOf = (task: string) => classifier.evaluation.find((e) => e.task === task);
    const attributes = attributeHeads.map((task) => {
      const head = heads.find((h) => h.task === task.name) as HeadPrediction;
      const evaluation = evaluationOf(task.name);
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
      const joint = intersectionPrediction(heads, names);
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
    for (const task of attributeHeads) {
      const head = heads.find((h) => h.task === task.name) as HeadPrediction;
      const a = adherence(prompt, task.classes, head.predicted);
      if (a) adherenceByAttribute[task.name] = a;
    }
    const findings = findingHeads.map((task) => {
      const head = heads.find((h) => h.task === task.name) as HeadPrediction;
      const positives = head.predicted.reduce((s, v) => s + (v === 1 ? 1 : 0), 0);
      return {
        finding: task.name,
        positiveRate: wilsonInterval(positives, n),
        requested: requestedFinding(prompt, task.name),
      };
    });
    results.push({
      prompt,
      seed,
      n,
      attributes,
      intersections,
      adherence: adherenceByAttribute,
      findings,
    });
  }
  return results;
}
