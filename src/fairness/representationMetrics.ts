/**
 * How far the subgroup make-up of generated images is from a target (METHODS.md, "Bias metrics").
 * Every function takes proportions over K groups (use `proportionsFromCounts` for counts) and a
 * target probability vector over the same groups.
 */
import {
  assertFiniteArray,
  assertNonNegativeArray,
  assertProbabilityVector,
  assertSameLength,
} from "./validation";

/** The uniform distribution over k groups. */
export function uniformProportions(k: number): number[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`group count must be ≥ 1, got ${k}`);
  return Array.from({ length: k }, () => 1 / k);
}

/** Counts → proportions (counts must be ≥ 0 with a positive total). */
export function proportionsFromCounts(counts: ArrayLike<number>): number[] {
  assertNonNegativeArray(counts, "counts");
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) throw new Error("counts sum to 0: no images to take proportions of");
  return Array.from(counts, (c) => c / total);
}

function isUniform(target: ArrayLike<number>): boolean {
  for (let i = 1; i < target.length; i++) {
    if (Math.abs(target[i] - target[0]) > 1e-12) return false;
  }
  return true;
}

function checkPair(frequencies: ArrayLike<number>, target: ArrayLike<number>): void {
  assertProbabilityVector(frequencies, "frequencies");
  assertProbabilityVector(target, "target");
  assertSameLength(frequencies, "frequencies", target, "target");
}

/**
 * Shen et al.'s bias. For a uniform target: the mean over all pairs i < j of |f_i − f_j| (0 when
 * balanced, 2/K… up to 1 for K = 2 all in one group). For any other target: the mean over groups
 * of |f_g − t_g|. Needs K ≥ 2.
 */
export function shenBias(
  frequencies: ArrayLike<number>,
  target: ArrayLike<number> = uniformProportions(frequencies.length),
): number {
  checkPair(frequencies, target);
  const k = frequencies.length;
  if (k < 2) throw new Error(`bias needs at least 2 groups, got ${k}`);
  let total = 0;
  if (isUniform(target)) {
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) total += Math.abs(frequencies[i] - frequencies[j]);
    }
    return total / ((k * (k - 1)) / 2);
  }
  for (let g = 0; g < k; g++) total += Math.abs(frequencies[g] - target[g]);
  return total / k;
}

/** Total variation distance ½ Σ_g |f_g − t_g|, in [0, 1]. */
export function totalVariation(frequencies: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair(frequencies, target);
  let total = 0;
  for (let g = 0; g < frequencies.length; g++) total += Math.abs(frequencies[g] - target[g]);
  return total / 2;
}

/** Default additive smoothing of the observed proportions in `klDivergenceFromTarget`. */
export const KL_SMOOTHING = 1e-6;

/**
 * KL(target ‖ frequencies) = Σ_g t_g ln(t_g / f̃_g), in nats, where the observed proportions are
 * smoothed as f̃_g = (f_g + ε)/(1 + Kε) (ε = 1e-6 by default) so that a group the model never
 * generates gives a large finite value instead of ∞. Groups with t_g = 0 contribute 0.
 */
export function klDivergenceFromTarget(
  target: ArrayLike<number>,
  frequencies: ArrayLike<number>,
  epsilon = KL_SMOOTHING,
): number {
  checkPair(frequencies, target);
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new Error(`KL smoothing ε must be a finite number ≥ 0, got ${epsilon}`);
  }
  const k = frequencies.length;
  let total = 0;
  for (let g = 0; g < k; g++) {
    if (target[g] === 0) continue;
    const smoothed = (frequencies[g] + epsilon) / (1 + k * epsilon);
    total += target[g] * Math.log(target[g] / smoothed);
  }
  return total;
}

/**
 * Choi et al.'s fairness discrepancy ‖E[p] − t‖₂: the mean of the classifier's per-image
 * probability vectors against the target. Rows are images, each a probability vector over K.
 */
export function fairnessDiscrepancy(
  probabilities: ArrayLike<ArrayLike<number>>,
  target: ArrayLike<number>,
): number {
  assertProbabilityVector(target, "target");
  if (probabilities.length === 0) throw new Error("fairness discrepancy needs at least one image");
  const k = target.length;
  const mean = new Float64Array(k);
  for (let i = 0; i < probabilities.length; i++) {
    const row = probabilities[i];
    if (row.length !== k) {
      throw new Error(`probabilities[${i}] has ${row.length} entries, target has ${k}`);
    }
    assertProbabilityVector(row, `probabilities[${i}]`);
    for (let g = 0; g < k; g++) mean[g] += row[g];
  }
  let total = 0;
  for (let g = 0; g < k; g++) {
    const diff = mean[g] / probabilities.length - target[g];
    total += diff * diff;
  }
  return Math.sqrt(total);
}

export interface RepresentationMetrics {
  frequencies: number[];
  target: number[];
  bias: number;
  totalVariation: number;
  /** KL(target ‖ frequencies) with the stated smoothing. */
  kl: number;
  klSmoothing: number;
}

/** All proportion-based metrics at once (fairness discrepancy needs probabilities: see above). */
export function representationMetrics(
  frequencies: ArrayLike<number>,
  target: ArrayLike<number>,
  klSmoothing = KL_SMOOTHING,
): RepresentationMetrics {
  assertFiniteArray(frequencies, "frequencies");
  return {
    frequencies: Array.from(frequencies),
    target: Array.from(target),
    bias: shenBias(frequencies, target),
    totalVariation: totalVariation(frequencies, target),
    kl: klDivergenceFromTarget(target, frequencies, klSmoothing),
    klSmoothing,
  };
}
