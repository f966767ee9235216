/**
 * Error-aware subgroup proportions (the black-box shift estimation / CLEAM idea). A classifier
 * with confusion matrix C[i][j] = P(pred j | true i), measured on held-out real images, turns
 * true proportions p into expected predicted proportions q = Cᵀ p. Solving Cᵀ p = q for the
 * observed q and projecting onto the simplex undoes the classifier's errors on average — the
 * naive q is pulled towards the classifier's confusions.
 *
 * Intervals: percentile bootstrap resampling both the generated images (q) and, independently,
 * the calibration images (C), so the interval carries both sources of uncertainty.
 */
import {
  assertGroupLabels,
  groupProportions,
  quantileOfSorted,
  resampleIndices,
  DEFAULT_RESAMPLES,
  type BootstrapOptions,
} from "./bootstrap";
import { confusionCounts, confusionMatrixFromCounts, perClassAccuracy } from "./confusionMatrix";
import type { Interval } from "./interval";
import { projectOntoSimplex } from "./simplexProjection";
import { solveLinearSystem } from "./solveLinearSystem";
import { createRng } from "../util/random";
import { assertLevel, assertPositiveInteger, assertSameLength } from "./validation";

/** Cᵀ p = q solved for p, then projected onto the simplex. */
export function correctProportions(observed: ArrayLike<number>, confusion: number[][]): number[] {
  const k = observed.length;
  if (confusion.length !== k) {
    throw new Error(`confusion matrix has ${confusion.length} rows, observed has ${k} groups`);
  }
  const transposed = confusion.map((_, i) => confusion.map((row) => row[i]));
  return projectOntoSimplex(solveLinearSystem(transposed, Array.from(observed)));
}

export interface ErrorAwareInput {
  /** Classifier's predicted group for each generated image. */
  generatedPredictions: ArrayLike<number>;
  /** True group of each held-out real (calibration) image. */
  calibrationTrue: ArrayLike<number>;
  /** Classifier's prediction for each calibration image. */
  calibrationPredicted: ArrayLike<number>;
  /** Number of groups. */
  groups: number;
}

export interface ErrorAwareProportions {
  /** Observed predicted proportions with bootstrap intervals over generated images only. */
  naive: Interval[];
  /**
   * Confusion-corrected proportions with intervals over both resampled sets (each interval's n
   * counts generated + calibration images).
   */
  corrected: Interval[];
  confusion: number[][];
  /** Per-class accuracy of the classifier on the calibration set. */
  classAccuracy: number[];
  generatedCount: number;
  calibrationCount: number;
  /** Resamples whose bootstrapped confusion matrix was singular (skipped). */
  singularResamples: number;
}

export function errorAwareProportions(
  input: ErrorAwareInput,
  options: BootstrapOptions,
): ErrorAwareProportions {
  const k = input.groups;
  assertGroupLabels(input.generatedPredictions, k, "generatedPredictions");
  assertSameLength(
    input.calibrationTrue,
    "calibrationTrue",
    input.calibrationPredicted,
    "calibrationPredicted",
  );
  assertGroupLabels(input.calibrationTrue, k, "calibrationTrue");
  assertGroupLabels(input.calibrationPredicted, k, "calibrationPredicted");
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  assertPositiveInteger(resamples, "resamples");
  const level = options.level ?? 0.95;
  assertLevel(level);

  const nGen = input.generatedPredictions.length;
  const nCal = input.calibrationTrue.length;
  const observed = groupProportions(input.generatedPredictions, k);
  const confusion = confusionMatrixFromCounts(
    confusionCounts(input.calibrationTrue, input.calibrationPredicted, k),
  );
  const corrected = correctProportions(observed, confusion);

  const rng = createRng(options.seed);
  const genIndices = new Int32Array(nGen);
  const calIndices = new Int32Array(nCal);
  const naiveReplicates = Array.from({ length: k }, () => [] as number[]);
  const correctedReplicates = Array.from({ length: k }, () => [] as number[]);
  let singularResamples = 0;
  for (let b = 0; b < resamples; b++) {
    const q = groupProportions(
      input.generatedPredictions,
      k,
      resampleIndices(rng, nGen, genIndices),
    );
    resampleIndices(rng, nCal, calIndices);
    for (let g = 0; g < k; g++) naiveReplicates[g].push(q[g]);
    const counts = confusionCounts(
      input.calibrationTrue,
      input.calibrationPredicted,
      k,
      calIndices,
    );
    let p: number[];
    try {
      p = correctProportions(q, confusionMatrixFromCounts(counts));
    } catch {
      singularResamples++; // a resample missing a true group, or a singular C
      continue;
    }
    for (let g = 0; g < k; g++) correctedReplicates[g].push(p[g]);
  }
  const toInterval = (estimate: number, replicates: number[], n: number): Interval => {
    const sorted = replicates.sort((a, b) => a - b);
    return {
      estimate,
      lower: quantileOfSorted(sorted, (1 - level) / 2),
      upper: quantileOfSorted(sorted, (1 + level) / 2),
      level,
      n,
      method: "percentile-bootstrap",
      resamples,
      seed: options.seed,
    };
  };
  return {
    naive: Array.from(observed, (q, g) => toInterval(q, naiveReplicates[g], nGen)),
    corrected: corrected.map((p, g) => toInterval(p, correctedReplicates[g], nGen + nCal)),
    confusion,
    classAccuracy: perClassAccuracy(confusion),
    generatedCount: nGen,
    calibrationCount: nCal,
    singularResamples,
  };
}
