/**
 * How one prompt's generated images split over one attribute's groups, as an audit reports it:
 * counts, proportions with bootstrap intervals (Wilson where a group has none or all images), Shen et al.'s bias, total variation and KL
 * against the target (each with an interval), Choi et al.'s fairness discrepancy from the
 * classifier's probabilities, and the error-aware (confusion-corrected) proportions.
 */
import {
  bootstrapProportionMetric,
  errorAwareProportions,
  fairnessDiscrepancy,
  groupProportionIntervals,
  klDivergenceFromTarget,
  shenBias,
  totalVariation,
  type Interval,
  wilsonInterval,
} from "../fairness";

export interface AttributeRepresentation {
  attribute: string;
  groups: string[];
  /** Images classified into each group. */
  counts: number[];
  n: number;
  proportions: Interval[];
  target: number[];
  bias: Interval;
  totalVariation: Interval;
  kl: Interval;
  fairnessDiscrepancy: number;
  /** Proportions corrected for the classifier's held-out confusion matrix (absent when none). */
  corrected?: Interval[];
  /** Why there is no corrected estimate although a confusion matrix was given. */
  correctionUnavailable?: string;
  /** Which classifier head counted, and how accurate it is on held-out real images. */
  classifier?: { accuracy: number; perClassAccuracy: number[]; heldOut: number };
}

export interface RepresentationInput {
  attribute: string;
  groups: string[];
  /** Predicted group index per generated image. */
  predicted: ArrayLike<number>;
  /** Calibrated probabilities per image, [n × groups] row-major. */
  probabilities: Float32Array;
  target: number[];
  /** Held-out confusion counts of the classifier head (rows true, columns predicted). */
  confusion?: number[][];
  seed: number;
  resamples?: number;
}

/** Expands confusion counts into per-image (true, predicted) pairs for resampling. */
export function pairsFromConfusion(confusion: number[][]): {
  truth: Int32Array;
  predicted: Int32Array;
} {
  const truth: number[] = [];
  const predicted: number[] = [];
  confusion.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let c = 0; c < count; c++) {
        truth.push(i);
        predicted.push(j);
      }
    }),
  );
  return { truth: Int32Array.from(truth), predicted: Int32Array.from(predicted) };
}

export function attributeRepresentation(input: RepresentationInput): AttributeRepresentation {
  const k = input.groups.length;
  const { predicted, target } = input;
  if (target.length !== k) {
    throw new Error(
      `target for "${input.attribute}" has ${target.length} entries, the attribute has ${k} groups`,
    );
  }
  const n = predicted.length;
  const options = { seed: input.seed, resamples: input.resamples ?? 2000 };
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[predicted[i]] += 1;
  const rows = Array.from({ length: n }, (_, i) =>
    input.probabilities.subarray(i * k, (i + 1) * k),
  );
  const result: AttributeRepresentation = {
    attribute: input.attribute,
    groups: input.groups,
    counts,
    n,
    proportions: proportionIntervals(predicted, counts, options),
    target,
    bias: withEstimate(
      bootstrapProportionMetric(predicted, k, (f) => shenBias(f, target), options),
      shenBias(
        counts.map((c) => c / n),
        target,
      ),
    ),
    totalVariation: withEstimate(
      bootstrapProportionMetric(predicted, k, (f) => totalVariation(f, target), options),
      totalVariation(
        counts.map((c) => c / n),
        target,
      ),
    ),
    kl: withEstimate(
      bootstrapProportionMetric(predicted, k, (f) => klDivergenceFromTarget(target, f), options),
      klDivergenceFromTarget(
        target,
        counts.map((c) => c / n),
      ),
    ),
    fairnessDiscrepancy: fairnessDiscrepancy(rows, target),
  };
  if (input.confusion) {
    const calibration = pairsFromConfusion(input.confusion);
    if (calibration.truth.length > 0) {
      try {
        result.corrected = errorAwareProportions(
          {
            generatedPredictions: predicted,
            calibrationTrue: calibration.truth,
            calibrationPredicted: calibration.predicted,
            groups: k,
          },
          options,
        ).corrected;
      } catch (error) {
        // A classifier that cannot tell some groups apart has no inverse to correct with.
        result.correctionUnavailable = (error as Error).message;
      }
    }
  }
  return result;
}

/**
 * Percentile bootstrap per group, except where a group has 0 or all n images: every resample
 * then gives the same share and the interval collapses to a point ([1, 1] for 40 of 40), so
 * those groups get the Wilson score interval, which stays honest at the edges.
 */
function proportionIntervals(
  predicted: ArrayLike<number>,
  counts: number[],
  options: Parameters<typeof groupProportionIntervals>[2],
): Interval[] {
  const n = predicted.length;
  const level = options.level ?? 0.95;
  return groupProportionIntervals(predicted, counts.length, options).map((interval, g) =>
    counts[g] === 0 || counts[g] === n ? wilsonInterval(counts[g], n, level) : interval,
  );
}

/** Bootstrap intervals keep the full-sample value as their point estimate. */
function withEstimate(interval: Interval, estimate: number): Interval {
  return { ...interval, estimate };
}
