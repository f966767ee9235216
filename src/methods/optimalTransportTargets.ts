/**
 * Per-image targets for the distributional alignment loss (Shen et al., ICLR 2024): draw sets of
 * N one-hot group vectors from the target distribution, match them to the N images' classifier
 * probabilities by the cheapest assignment (Σ‖p_i − u_σ(i)‖₂), average the matches over draws to
 * q_i; the target is y_i = argmax q_i with confidence c_i = max q_i. Images the batch could go
 * either way on (low c_i) are then left out of the loss.
 *
 * With two groups the optimal assignment gives the K target slots of group 1 to the K images
 * most likely in group 1 (the cost √2·(1 − p_i1) or √2·p_i1 is linear in p_i1), and K is
 * Binomial(N, t₁); so q_i1 = P(K ≥ N − r_i) for the image of ascending rank r_i — the closed form
 * `twoGroupTargets` computes exactly, equal to the solver's average over infinitely many draws.
 */
import { assertProbabilityVector } from "../fairness/validation";
import type { Rng } from "../util/random";
import { solveAssignment } from "./hungarianAssignment";

export interface AlignmentTargets {
  /** Groups per image. */
  groups: number;
  /** [n × groups] row-major: how often each group was matched to each image (q_i). */
  frequencies: Float64Array;
  /** y_i = argmax_g q_ig. */
  labels: Int32Array;
  /** c_i = max_g q_ig. */
  confidence: Float64Array;
}

/** Default number of target sets drawn for more than two groups. */
export const DEFAULT_TARGET_DRAWS = 64;

/** A classifier probability row may be off 1 by float32 rounding, not by more. */
const ROW_SUM_TOLERANCE = 1e-3;

function checkInputs(probabilities: ArrayLike<number>, groups: number, target: ArrayLike<number>) {
  if (!Number.isInteger(groups) || groups < 2) {
    throw new Error(`alignment targets need at least 2 groups, got ${groups}`);
  }
  if (target.length !== groups) {
    throw new Error(`target has ${target.length} entries for ${groups} groups`);
  }
  assertProbabilityVector(target, "target distribution");
  if (probabilities.length === 0 || probabilities.length % groups !== 0) {
    throw new Error(
      `probabilities have ${probabilities.length} entries, not a positive multiple of ${groups} groups`,
    );
  }
  const n = probabilities.length / groups;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let g = 0; g < groups; g++) {
      const p = probabilities[i * groups + g];
      if (!(p >= 0 && p <= 1)) throw new Error(`probability of image ${i}, group ${g} is ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
      throw new Error(`probabilities of image ${i} sum to ${sum}, not 1`);
    }
  }
  return n;
}

function summarise(frequencies: Float64Array, n: number, groups: number): AlignmentTargets {
  const labels = new Int32Array(n);
  const confidence = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let g = 1; g < groups; g++) {
      if (frequencies[i * groups + g] > frequencies[i * groups + best]) best = g;
    }
    labels[i] = best;
    confidence[i] = frequencies[i * groups + best];
  }
  return { groups, frequencies, labels, confidence };
}

/**
 * How a draw's N target slots are made: "iid" — each slot a group drawn from t (Shen et al.; the
 * number of slots of group g is Binomial(N, t_g)); "stratified" — ⌊N·t_g⌋ slots of each group,
 * and the R = N − Σ⌊N·t_g⌋ left over given by systematic sampling on the fractional parts, so each
 * group gets its fractional part's chance of one more slot. Both have E[slots of g] = N·t_g;
 * stratified slots do not swing from draw to draw (with N = 8 and three groups of 1/3, iid counts
 * have a standard deviation of 1.3 slots per group).
 */
export type TargetSlots = "iid" | "stratified";

/** Fills `slots` with a stratified draw of target groups (see TargetSlots); slot order is irrelevant to the assignment. */
export function stratifiedSlots(slots: Int32Array, target: ArrayLike<number>, rng: Rng): void {
  const n = slots.length;
  const groups = target.length;
  const base = new Int32Array(groups);
  const fraction = new Float64Array(groups);
  let used = 0;
  for (let g = 0; g < groups; g++) {
    base[g] = Math.floor(n * target[g] + 1e-9);
    fraction[g] = Math.max(n * target[g] - base[g], 0);
    used += base[g];
  }
  let j = 0;
  for (let g = 0; g < groups; g++) for (let c = 0; c < base[g]; c++) slots[j++] = g;
  // Systematic sampling: points u, u+1, …, u+R−1 on the cumulative fractional parts.
  const remainder = n - used;
  if (remainder > 0) {
    const total = fraction.reduce((a, b) => a + b, 0);
    let point = (rng.next() * total) / remainder;
    let cumulative = 0;
    for (let g = 0; g < groups && j < n; g++) {
      cumulative += fraction[g];
      while (j < n && point < cumulative) {
        slots[j++] = g;
        point += total / remainder;
      }
    }
    while (j < n) slots[j++] = groups - 1; // float round-off only
  }
}

/** The general solver: `draws` seeded target sets, each matched by the Hungarian algorithm. */
export function optimalTransportTargets(
  probabilities: ArrayLike<number>,
  groups: number,
  target: ArrayLike<number>,
  options: { rng: Rng; draws?: number; slots?: TargetSlots },
): AlignmentTargets {
  const n = checkInputs(probabilities, groups, target);
  const draws = options.draws ?? DEFAULT_TARGET_DRAWS;
  if (!Number.isInteger(draws) || draws < 1) {
    throw new Error(`target draws must be a positive integer, got ${draws}`);
  }
  const groupCost = groupCosts(probabilities, n, groups);
  const counts = new Float64Array(n * groups);
  const slots = new Int32Array(n);
  const stratified = options.slots === "stratified";
  for (let d = 0; d < draws; d++) {
    if (stratified) stratifiedSlots(slots, target, options.rng);
    else for (let j = 0; j < n; j++) slots[j] = options.rng.categorical(target);
    const groupOf = assignSlots(groupCost, slots, n, groups);
    for (let i = 0; i < n; i++) counts[i * groups + groupOf[i]] += 1;
  }
  for (let i = 0; i < counts.length; i++) counts[i] /= draws;
  return summarise(counts, n, groups);
}

/** ‖p_i − e_g‖₂ = √(Σ_h p_ih² − 2·p_ig + 1): one cost per (image, group), reused for every slot. */
function groupCosts(probabilities: ArrayLike<number>, n: number, groups: number): Float64Array {
  const groupCost = new Float64Array(n * groups);
  for (let i = 0; i < n; i++) {
    let squares = 0;
    for (let g = 0; g < groups; g++) squares += probabilities[i * groups + g] ** 2;
    for (let g = 0; g < groups; g++) {
      groupCost[i * groups + g] = Math.sqrt(
        Math.max(squares - 2 * probabilities[i * groups + g] + 1, 0),
      );
    }
  }
  return groupCost;
}

/** Each image's group when the slots are matched to the images at the least total cost. */
function assignSlots(
  groupCost: Float64Array,
  slots: Int32Array,
  n: number,
  groups: number,
): Int32Array {
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) cost[i * n + j] = groupCost[i * groups + slots[j]];
  }
  const assignment = solveAssignment(cost, n);
  return Int32Array.from({ length: n }, (_, i) => slots[assignment[i]]);
}

/**
 * One exact assignment, for any number of groups: stratified slots (each group ⌊N·t_g⌋ or one
 * more) matched to the images at the least total cost. Every image gets a group and the batch
 * holds the target's proportions — where the averaged targets above leave images that every group
 * could take (all male, half the target female) without a confident one.
 */
export function sampledAssignment(
  probabilities: ArrayLike<number>,
  groups: number,
  target: ArrayLike<number>,
  rng: Rng,
): Int32Array {
  const n = checkInputs(probabilities, groups, target);
  const slots = new Int32Array(n);
  stratifiedSlots(slots, target, rng);
  return assignSlots(groupCosts(probabilities, n, groups), slots, n, groups);
}

/** P(X ≤ x) for X ~ Binomial(n, p), summed in float64 (n ≤ a few hundred). */
export function binomialCdf(x: number, n: number, p: number): number {
  if (x < 0) return 0;
  if (x >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  // pmf(k) by the ratio pmf(k)/pmf(k−1) = (n−k+1)/k · p/(1−p), started in log space.
  let logPmf = n * Math.log1p(-p);
  let total = Math.exp(logPmf);
  const ratio = Math.log(p) - Math.log1p(-p);
  for (let k = 1; k <= x; k++) {
    logPmf += Math.log((n - k + 1) / k) + ratio;
    total += Math.exp(logPmf);
  }
  return Math.min(1, total);
}

/** Exact expected targets for two groups: rank by p(group 1), binomial number of group-1 slots. */
export function twoGroupTargets(
  probabilities: ArrayLike<number>,
  target: ArrayLike<number>,
): AlignmentTargets {
  const n = checkInputs(probabilities, 2, target);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => probabilities[a * 2 + 1] - probabilities[b * 2 + 1] || a - b,
  );
  const frequencies = new Float64Array(n * 2);
  order.forEach((image, rank) => {
    // Group 1 reaches this image when at least n − rank of the n slots are group 1.
    const inGroup1 = 1 - binomialCdf(n - rank - 1, n, target[1]);
    frequencies[image * 2 + 1] = inGroup1;
    frequencies[image * 2] = 1 - inGroup1;
  });
  return summarise(frequencies, n, 2);
}

/** Closed form for two groups, the seeded assignment solver otherwise. */
export function alignmentTargets(
  probabilities: ArrayLike<number>,
  groups: number,
  target: ArrayLike<number>,
  options: { rng: Rng; draws?: number; slots?: TargetSlots },
): AlignmentTargets {
  return groups === 2
    ? twoGroupTargets(probabilities, target)
    : optimalTransportTargets(probabilities, groups, target, options);
}
