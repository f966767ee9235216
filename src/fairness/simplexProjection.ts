/**
 * Euclidean projection onto the probability simplex {p ≥ 0, Σp = 1} (the sort-and-threshold
 * algorithm of Held et al. / Duchi et al.): how an inverted confusion matrix's estimate, which can
 * leave the simplex through sampling noise, is turned back into proportions.
 */
import { assertFiniteArray } from "./validation";

export function projectOntoSimplex(values: ArrayLike<number>): number[] {
  assertFiniteArray(values, "values");
  if (values.length === 0) throw new Error("cannot project an empty vector onto the simplex");
  const sorted = Array.from(values).sort((a, b) => b - a);
  let cumulative = 0;
  let threshold = 0;
  for (let i = 0; i < sorted.length; i++) {
    cumulative += sorted[i];
    const candidate = (cumulative - 1) / (i + 1);
    if (sorted[i] - candidate > 0) threshold = candidate;
  }
  return Array.from(values, (v) => Math.max(0, v - threshold));
}
