/**
 * The arithmetic of FairDiffusion's fair Bayesian perturbation, apart from any network:
 *   - σ: one entry per (attribute, group), laid out attribute after attribute;
 *   - per-sample loss weights w_i = 1 + Σ_a σ[a, g_a(i)]·ξ_{i,a}, ξ ~ N(0, 1) fresh per sample and
 *     attribute, so E[w_i] = 1 and Var[w_i] = Σ_a σ[a, g_a(i)]² (group-dependent noise);
 *   - the fairness score y = −Σ_a (max_g ℓ̄_g − min_g ℓ̄_g) from the unweighted per-sample losses;
 *   - the exploration step σ ← ρ·σ + (1 − ρ)·U(0, 1)^K.
 *
 * Absent groups: a group with no sample in the batch is left out of max/min; an attribute with
 * fewer than two groups present contributes 0. (The public FairDiffusion code takes the mean of an
 * empty group, gets NaN and then zeroes the whole attribute; using the groups present keeps the
 * signal of the others. A sample whose group is unknown for an attribute gets no perturbation
 * from it and is left out of that attribute's group means.)
 */
import type { GroupAssignment, SensitiveAttribute } from "../data/subgroups";
import type { Rng } from "../util/random";

export interface PerturbationLayout {
  attributes: readonly SensitiveAttribute[];
  /** Index of each attribute's first group in σ. */
  offsets: number[];
  /** Length of σ: Σ_a groups(a). */
  size: number;
}

export function perturbationLayout(attributes: readonly SensitiveAttribute[]): PerturbationLayout {
  if (attributes.length === 0) throw new Error("fair perturbation needs at least one attribute");
  const names = new Set<string>();
  const offsets: number[] = [];
  let size = 0;
  for (const a of attributes) {
    if (names.has(a.name)) throw new Error(`attribute "${a.name}" is listed twice`);
    names.add(a.name);
    offsets.push(size);
    size += a.groups.length;
  }
  return { attributes, offsets, size };
}

/** σ's entry names, "attribute:group", in layout order (for events and checkpoints). */
export function sigmaLabels(layout: PerturbationLayout): string[] {
  return layout.attributes.flatMap((a) => a.groups.map((g) => `${a.name}:${g}`));
}

/**
 * Group index of every sample for every attribute ([attribute][sample]); −1 where the sample
 * does not say. A group name the attribute does not have is an error naming it.
 */
export function groupIndices(
  layout: PerturbationLayout,
  assignments: readonly GroupAssignment[],
): Int32Array[] {
  return layout.attributes.map((attribute) => {
    const out = new Int32Array(assignments.length);
    assignments.forEach((assignment, i) => {
      const group = assignment[attribute.name];
      if (group === undefined) {
        out[i] = -1;
        return;
      }
      const index = attribute.groups.indexOf(group);
      if (index < 0) {
        throw new Error(
          `sample ${i} has unknown group "${group}" for attribute "${attribute.name}" (expected ${attribute.groups.join(", ")})`,
        );
      }
      out[i] = index;
    });
    return out;
  });
}

/** Checks a σ vector against the layout: right length, every entry finite and ≥ 0. */
export function checkSigma(layout: PerturbationLayout, sigma: ArrayLike<number>): void {
  if (sigma.length !== layout.size) {
    throw new Error(`σ has ${sigma.length} entries, the attributes have ${layout.size} groups`);
  }
  for (let j = 0; j < sigma.length; j++) {
    if (!(Number.isFinite(sigma[j]) && sigma[j] >= 0)) {
      throw new Error(`σ[${j}] must be a finite number ≥ 0, got ${sigma[j]}`);
    }
  }
}

/**
 * w_i = 1 + Σ_a σ[a, g_a(i)]·ξ_{i,a}. ξ is drawn for every (sample, attribute) in that order,
 * known group or not, so the stream does not depend on which labels are missing.
 */
export function perturbationWeights(
  layout: PerturbationLayout,
  sigma: ArrayLike<number>,
  groups: readonly Int32Array[],
  rng: Rng,
): Float32Array {
  checkSigma(layout, sigma);
  const n = groups[0]?.length ?? 0;
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let w = 1;
    layout.attributes.forEach((_, a) => {
      const xi = rng.normal();
      const g = groups[a][i];
      if (g >= 0) w += sigma[layout.offsets[a] + g] * xi;
    });
    weights[i] = w;
  }
  return weights;
}

/** Mean unweighted loss of each group of each attribute; NaN for a group absent from the batch. */
export function groupMeanLosses(
  layout: PerturbationLayout,
  losses: ArrayLike<number>,
  groups: readonly Int32Array[],
): number[][] {
  return layout.attributes.map((attribute, a) => {
    const sums = new Array<number>(attribute.groups.length).fill(0);
    const counts = new Array<number>(attribute.groups.length).fill(0);
    for (let i = 0; i < losses.length; i++) {
      const g = groups[a][i];
      if (g < 0) continue;
      sums[g] += losses[i];
      counts[g] += 1;
    }
    return sums.map((s, g) => (counts[g] > 0 ? s / counts[g] : Number.NaN));
  });
}

/** Largest minus smallest group mean over the groups present (0 when fewer than two are). */
export function groupLossGap(means: readonly number[]): number {
  const present = means.filter((m) => !Number.isNaN(m));
  if (present.length < 2) return 0;
  return Math.max(...present) - Math.min(...present);
}

/** y = −Σ_a gap_a: higher is fairer, 0 is perfectly even. */
export function fairnessScore(groupMeans: readonly (readonly number[])[]): number {
  return -groupMeans.reduce((sum, means) => sum + groupLossGap(means), 0);
}

/** σ ← ρ·σ + (1 − ρ)·u, u ~ U(0, 1)^K: keeps σ wandering near the last choice. */
export function exploreSigma(sigma: ArrayLike<number>, rho: number, rng: Rng): Float64Array {
  if (!(rho >= 0 && rho <= 1)) throw new Error(`exploration ρ must be in [0, 1], got ${rho}`);
  return Float64Array.from(sigma, (s) => rho * s + (1 - rho) * rng.next());
}
