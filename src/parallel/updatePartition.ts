/**
 * Which replica updates which variables. Data-parallel replicas split the update as ZeRO's first
 * stage does: replica i sums the replicas' gradient shares over its own run of variables, keeps
 * those variables' optimizer moments, updates them and hands the new weights to the others — so
 * the sum and the update (memory-bound passes over every weight) are done once, not once a
 * replica, and in parallel.
 */
export interface UpdateRange {
  /** The variables [firstVariable, endVariable). */
  firstVariable: number;
  endVariable: number;
  /** Their elements' offsets in the variables laid one after another: [start, end). */
  start: number;
  end: number;
}

/**
 * `parts` runs of consecutive variables of nearly equal element counts (each cut at the variable
 * boundary nearest its share; a run may be empty where variables are fewer than parts).
 */
export function updatePartition(lengths: number[], parts: number): UpdateRange[] {
  if (!Number.isInteger(parts) || parts < 1) {
    throw new Error(`an update partition needs a whole number of parts ≥ 1, got ${parts}`);
  }
  const offsets = [0];
  for (const length of lengths) offsets.push(offsets[offsets.length - 1] + length);
  const total = offsets[lengths.length];
  const cuts = [0];
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    let cut = cuts[p - 1];
    while (cut < lengths.length && offsets[cut + 1] <= target) cut++;
    // The nearer of the boundaries either side of the target.
    if (cut < lengths.length && offsets[cut + 1] - target < target - offsets[cut]) cut++;
    cuts.push(cut);
  }
  cuts.push(lengths.length);
  return cuts.slice(0, parts).map((first, p) => ({
    firstVariable: first,
    endVariable: cuts[p + 1],
    start: offsets[first],
    end: offsets[cuts[p + 1]],
  }));
}
