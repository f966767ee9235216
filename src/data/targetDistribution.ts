/**
 * Target distributions over the groups of an attribute: uniform, a dataset's own proportions, or
 * any user vector. Validation is strict because a silently renormalised target hides mistakes.
 */
import { groupOf, type GroupAssignment, type SensitiveAttribute } from "./subgroups";

/** Group name → probability. Every group of the attribute appears; values sum to 1. */
export type TargetDistribution = Readonly<Record<string, number>>;

export const TARGET_SUM_TOLERANCE = 1e-6;

/**
 * Checks `target` against `attribute` and returns it with every group present (missing groups
 * are an error, not 0, so a typo cannot drop a group). Rejects negative or non-finite values, a
 * sum off 1 by more than 1e-6, and unknown group names — each error names the bad value.
 */
export function validateTarget(
  attribute: SensitiveAttribute,
  target: Readonly<Record<string, number>>,
): TargetDistribution {
  for (const group of Object.keys(target)) {
    if (!attribute.groups.includes(group)) {
      throw new Error(
        `target names unknown group "${group}" for attribute "${attribute.name}" (expected ${attribute.groups.join(", ")})`,
      );
    }
  }
  let sum = 0;
  const out: Record<string, number> = {};
  for (const group of attribute.groups) {
    const value = target[group];
    if (value === undefined) {
      throw new Error(`target for "${attribute.name}" has no value for group "${group}"`);
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`target value for group "${group}" is not a finite number: ${String(value)}`);
    }
    if (value < 0) throw new Error(`target value for group "${group}" is negative: ${value}`);
    out[group] = value;
    sum += value;
  }
  if (Math.abs(sum - 1) > TARGET_SUM_TOLERANCE) {
    throw new Error(
      `target for "${attribute.name}" sums to ${sum}, not 1 (tolerance ${TARGET_SUM_TOLERANCE})`,
    );
  }
  return Object.freeze(out);
}

/** Equal representation. */
export function uniformTarget(attribute: SensitiveAttribute): TargetDistribution {
  const p = 1 / attribute.groups.length;
  return Object.freeze(Object.fromEntries(attribute.groups.map((g) => [g, p])));
}

/** Builds a target from a vector in the attribute's group order. */
export function targetFromVector(
  attribute: SensitiveAttribute,
  vector: readonly number[],
): TargetDistribution {
  if (vector.length !== attribute.groups.length) {
    throw new Error(
      `target vector has ${vector.length} values but "${attribute.name}" has ${attribute.groups.length} groups`,
    );
  }
  return validateTarget(
    attribute,
    Object.fromEntries(attribute.groups.map((g, i) => [g, vector[i]])),
  );
}

/** The target as a vector in the attribute's group order. */
export function targetToVector(
  attribute: SensitiveAttribute,
  target: TargetDistribution,
): number[] {
  const valid = validateTarget(attribute, target);
  return attribute.groups.map((g) => valid[g]);
}

/** A dataset's own proportions (Han et al.'s target); throws when `samples` is empty. */
export function proportionsOf(
  attribute: SensitiveAttribute,
  samples: Iterable<{ attributes: GroupAssignment }>,
): TargetDistribution {
  const counts = new Map(attribute.groups.map((g) => [g, 0]));
  let total = 0;
  for (const sample of samples) {
    const group = groupOf(attribute, sample.attributes);
    counts.set(group, (counts.get(group) ?? 0) + 1);
    total++;
  }
  if (total === 0) throw new Error(`no samples to measure proportions of "${attribute.name}"`);
  return Object.freeze(
    Object.fromEntries(attribute.groups.map((g) => [g, counts.get(g)! / total])),
  );
}
