/**
 * Method 1's per-batch bookkeeping, from the classifier's probabilities on a batch: per attribute
 * (or intersection) the optimal-transport label and confidence of each image (labels below the
 * confidence threshold become −1: no fairness loss), the arg-max predictions, the batch
 * proportions and Shen et al.'s bias of them against the target; and the semantic weights, lighter
 * where a confident target asks an image to change group from its reference image's.
 */
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shenBias } from "../fairness/representationMetrics";
import type { Rng } from "../util/random";
import type * as tf from "@tensorflow/tfjs-core";
import { attributeProbabilities, type AlignmentAttribute } from "./alignmentAttributes";
import { alignmentTargets, sampledAssignment, type TargetSlots } from "./optimalTransportTargets";

export interface AttributeBatchTargets {
  name: string;
  /** Target group per image, −1 below the confidence threshold. */
  labels: Int32Array;
  confidence: Float64Array;
  predicted: Int32Array;
  proportions: number[];
}

/** Probabilities per classifier head (calibrated) of images in [0, 1], off the tape. */
export async function headProbabilities(
  classifier: SubgroupClassifier,
  images: tf.Tensor4D,
): Promise<Float32Array[]> {
  return (await classifier.predict(images)).map((h) => h.probabilities);
}

function argmaxRows(probabilities: Float64Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let g = 1; g < k; g++)
      if (probabilities[i * k + g] > probabilities[i * k + best]) best = g;
    out[i] = best;
  }
  return out;
}

/** Each attribute's arg-max group per image. */
export function predictedGroups(
  attributes: AlignmentAttribute[],
  heads: Float32Array[],
  n: number,
): Int32Array[] {
  return attributes.map((a) => argmaxRows(attributeProbabilities(a, heads, n), n, a.groups.length));
}

/** Each attribute's arg-max group per image, −1 where its probability is below `threshold`. */
export function confidentGroups(
  attributes: AlignmentAttribute[],
  heads: Float32Array[],
  n: number,
  threshold: number,
): Int32Array[] {
  return attributes.map((a) => {
    const k = a.groups.length;
    const probabilities = attributeProbabilities(a, heads, n);
    return Int32Array.from(argmaxRows(probabilities, n, k), (g, i) =>
      probabilities[i * k + g] >= threshold ? g : -1,
    );
  });
}

/** Targets, predictions and the bias estimate of a batch of `n` images. */
export function batchTargets(
  attributes: AlignmentAttribute[],
  heads: Float32Array[],
  n: number,
  options: { rng: Rng; draws: number; threshold: number; slots: TargetSlots },
): { perAttribute: AttributeBatchTargets[]; biasEstimate: Record<string, number> } {
  const biasEstimate: Record<string, number> = {};
  const perAttribute = attributes.map((a) => {
    const k = a.groups.length;
    const probabilities = attributeProbabilities(a, heads, n);
    const predicted = argmaxRows(probabilities, n, k);
    const counts = new Array<number>(k).fill(0);
    for (const g of predicted) counts[g]++;
    biasEstimate[a.name] = shenBias(
      counts.map((c) => c / n),
      a.target,
    );
    const targets = alignmentTargets(probabilities, k, a.target, {
      rng: options.rng.fork(a.name),
      draws: options.draws,
      slots: options.slots,
    });
    const labels = Int32Array.from(targets.labels, (label, i) =>
      targets.confidence[i] >= options.threshold ? label : -1,
    );
    return {
      name: a.name,
      labels,
      confidence: targets.confidence,
      predicted,
      proportions: counts.map((c) => c / n),
    };
  });
  return { perAttribute, biasEstimate };
}

/** Per attribute: each image's group in one exact assignment to the target (sampledAssignment). */
export function sampledGroups(
  attributes: AlignmentAttribute[],
  heads: Float32Array[],
  n: number,
  rng: Rng,
): Int32Array[] {
  return attributes.map((a) =>
    sampledAssignment(
      attributeProbabilities(a, heads, n),
      a.groups.length,
      a.target,
      rng.fork(a.name),
    ),
  );
}

/**
 * w_i = weight × (changedFactor if some attribute gives image i a confident label other than its
 * reference image's predicted group, else 1).
 */
export function semanticWeights(
  labels: Int32Array[],
  referenceGroups: Int32Array[] | undefined,
  n: number,
  weight: number,
  changedFactor: number,
): Float32Array {
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const changes = labels.some(
      (l, a) => l[i] >= 0 && referenceGroups !== undefined && l[i] !== referenceGroups[a][i],
    );
    weights[i] = weight * (changes ? changedFactor : 1);
  }
  return weights;
}

/** The step event's per-attribute detail. */
export function batchTargetsDetail(perAttribute: AttributeBatchTargets[]) {
  return perAttribute.map((a) => ({
    attribute: a.name,
    targets: Array.from(a.labels),
    confidence: Array.from(a.confidence),
    predicted: Array.from(a.predicted),
    proportions: a.proportions,
  }));
}
