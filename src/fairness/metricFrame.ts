/**
 * A metric overall and by group, with the between-group spread — the shape of fairlearn's
 * MetricFrame, as a plain serialisable value (no functions, no typed arrays); and the by-group
 * intervals an audit report hands a notebook, with fairlearn's difference() and ratio().
 */
import type { Interval } from "./interval";

export interface MetricFrame {
  metric: string;
  overall: number;
  byGroup: Record<string, number>;
  /** max − min over groups (fairlearn's difference(method="between_groups")). */
  difference: number;
  /** min / max over groups (fairlearn's ratio()); NaN when the max is 0. */
  ratio: number;
  groupMin: { group: string; value: number };
  groupMax: { group: string; value: number };
  /** Sample sizes, when known. */
  sampleSize?: { overall: number; byGroup: Record<string, number> };
}

/** fairlearn's difference(method="between_groups"): the largest minus the smallest value. */
function betweenGroupDifference(min: number, max: number): number {
  return max - min;
}

/** fairlearn's ratio(): the smallest over the largest value; NaN when the largest is 0. */
function betweenGroupRatio(min: number, max: number): number {
  return max === 0 ? NaN : min / max;
}

/** Builds the frame from already computed values; groups with a NaN value are an error. */
export function metricFrame(
  metric: string,
  overall: number,
  byGroup: Record<string, number>,
  sampleSize?: MetricFrame["sampleSize"],
): MetricFrame {
  const entries = Object.entries(byGroup);
  if (entries.length === 0) throw new Error(`metric frame "${metric}" has no groups`);
  if (!Number.isFinite(overall)) throw new Error(`${metric} overall is ${overall}`);
  for (const [group, value] of entries) {
    if (!Number.isFinite(value)) throw new Error(`${metric} for group "${group}" is ${value}`);
  }
  let min = entries[0];
  let max = entries[0];
  for (const entry of entries) {
    if (entry[1] < min[1]) min = entry;
    if (entry[1] > max[1]) max = entry;
  }
  return {
    metric,
    overall,
    byGroup: { ...byGroup },
    difference: betweenGroupDifference(min[1], max[1]),
    ratio: betweenGroupRatio(min[1], max[1]),
    groupMin: { group: min[0], value: min[1] },
    groupMax: { group: max[0], value: max[1] },
    ...(sampleSize ? { sampleSize } : {}),
  };
}

/**
 * Evaluates `metric` on all rows and on each group's rows (fairlearn's MetricFrame(metrics=…,
 * sensitive_features=…)). `groupOf[i]` names row i's group.
 */
export function computeMetricFrame(
  metric: string,
  evaluate: (rows: number[]) => number,
  groupOf: ArrayLike<string>,
): MetricFrame {
  if (groupOf.length === 0) throw new Error(`metric frame "${metric}" has no rows`);
  const rowsByGroup = new Map<string, number[]>();
  for (let i = 0; i < groupOf.length; i++) {
    const rows = rowsByGroup.get(groupOf[i]) ?? [];
    rows.push(i);
    rowsByGroup.set(groupOf[i], rows);
  }
  const all = Array.from({ length: groupOf.length }, (_, i) => i);
  const byGroup: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  for (const [group, rows] of [...rowsByGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    byGroup[group] = evaluate(rows);
    sizes[group] = rows.length;
  }
  return metricFrame(metric, evaluate(all), byGroup, { overall: all.length, byGroup: sizes });
}

/** fairlearn's between-group summaries of a by-group result, over the point estimates. */
export interface BetweenGroups {
  /** Largest minus smallest estimate (fairlearn's difference(method="between_groups")). */
  difference(): number;
  /** Smallest over largest estimate (fairlearn's ratio()); NaN when the largest is 0. */
  ratio(): number;
}

/**
 * Each group's interval by group name, in the attribute's group order — fairlearn's
 * MetricFrame.by_group, `{ Female: Interval, Male: Interval }` — with difference() and ratio().
 * Those two live on the prototype, so Object.entries, JSON.stringify and display.json see only
 * the groups. (As for any object, group names that are integers, like "2", come first.)
 */
export type GroupIntervals = { readonly [group: string]: Interval } & BetweenGroups;

const betweenGroups: BetweenGroups = {
  difference(this: GroupIntervals): number {
    const estimates = Object.values(this).map((i) => i.estimate);
    return betweenGroupDifference(Math.min(...estimates), Math.max(...estimates));
  },
  ratio(this: GroupIntervals): number {
    const estimates = Object.values(this).map((i) => i.estimate);
    return betweenGroupRatio(Math.min(...estimates), Math.max(...estimates));
  },
};

/** Pairs `groups[i]` with `intervals[i]`; refuses names that would hide difference()/ratio(). */
export function groupIntervals(
  groups: readonly string[],
  intervals: readonly Interval[],
): GroupIntervals {
  if (groups.length !== intervals.length) {
    throw new Error(`${groups.length} groups but ${intervals.length} intervals`);
  }
  if (groups.length === 0) throw new Error("no groups");
  const frame = Object.create(betweenGroups) as Record<string, Interval>;
  groups.forEach((group, i) => {
    if (group in betweenGroups) {
      throw new Error(`a group named "${group}" would hide the by-group result's ${group}()`);
    }
    if (Object.hasOwn(frame, group)) throw new Error(`group "${group}" appears twice`);
    frame[group] = Object.freeze({ ...intervals[i] });
  });
  return Object.freeze(frame) as GroupIntervals;
}
