/**
 * A subgroup classifier's confusion matrix measured on held-out real images, C[i][j] =
 * P(predicted j | true i): what the error-aware estimate inverts, and the per-class accuracy an
 * honest audit reports beside classifier-based counts.
 */
import { assertGroupLabels } from "./bootstrap";
import { assertSameLength } from "./validation";

/** counts[i][j] = images of true group i predicted as j, over the images at `indices`. */
export function confusionCounts(
  trueLabels: ArrayLike<number>,
  predictedLabels: ArrayLike<number>,
  k: number,
  indices?: ArrayLike<number>,
): number[][] {
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const m = indices ? indices.length : trueLabels.length;
  for (let r = 0; r < m; r++) {
    const i = indices ? indices[r] : r;
    counts[trueLabels[i]][predictedLabels[i]] += 1;
  }
  return counts;
}

/** Row-normalises counts into P(pred j | true i); a true group with no images is an error. */
export function confusionMatrixFromCounts(counts: number[][]): number[][] {
  return counts.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (!(total > 0)) {
      throw new Error(`true group ${i} has no calibration images: its confusion row is undefined`);
    }
    return row.map((c) => c / total);
  });
}

/** C[i][j] = P(pred j | true i) from labelled held-out predictions. */
export function confusionMatrix(
  trueLabels: ArrayLike<number>,
  predictedLabels: ArrayLike<number>,
  k: number,
): number[][] {
  assertSameLength(trueLabels, "trueLabels", predictedLabels, "predictedLabels");
  assertGroupLabels(trueLabels, k, "trueLabels");
  assertGroupLabels(predictedLabels, k, "predictedLabels");
  return confusionMatrixFromCounts(confusionCounts(trueLabels, predictedLabels, k));
}

/** Per-class accuracy (recall): the diagonal of the row-normalised confusion matrix. */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, i) => row[i]);
}
