/**
 * Area under the ROC curve by the Mann–Whitney statistic with mid-ranks for ties:
 * AUC = P(score of a positive > score of a negative) + ½ P(tie).
 */
import { assertFiniteArray, assertSameLength } from "./validation";

/** labels: 1 = positive (e.g. finding present), 0 = negative. Needs both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  assertSameLength(scores, "scores", labels, "labels");
  assertFiniteArray(scores, "scores");
  const n = scores.length;
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 0 && labels[i] !== 1)
      throw new Error(`labels[${i}] = ${labels[i]}, need 0 or 1`);
    positives += labels[i];
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(`AUC needs both classes: ${positives} positives, ${negatives} negatives`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const midRank = (start + 1 + end) / 2; // ranks start..end−1 (1-based start+1…end)
    for (let r = start; r < end; r++) if (labels[order[r]] === 1) positiveRankSum += midRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
