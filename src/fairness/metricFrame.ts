/**
 * A metric overall and by group, with the between-group spread — the shape of fairlearn's
 * MetricFrame, as a plain serialisable value (no functions, no typed arrays).
 */

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
    difference: max[1] - min[1],
    ratio: max[1] === 0 ? NaN : min[1] / max[1],
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
