/**
 * Keeps a target distribution summing to 1 while one group is moved: the locked groups keep their
 * value, the other unlocked groups share what is left in their current ratio (equally when they
 * are all at 0). Pure, so the slider view and the tests share it.
 */
export function rebalance(
  values: readonly number[],
  locked: readonly boolean[],
  index: number,
  requested: number,
): number[] {
  if (index < 0 || index >= values.length) {
    throw new Error(`group index ${index} is out of range (0..${values.length - 1})`);
  }
  if (!Number.isFinite(requested)) throw new Error(`requested value ${requested} is not finite`);
  const free: number[] = [];
  let lockedSum = 0;
  values.forEach((v, i) => {
    if (i === index) return;
    if (locked[i]) lockedSum += v;
    else free.push(i);
  });
  // With every other group locked nothing can move without breaking the sum.
  if (free.length === 0) return [...values];
  const room = Math.max(0, 1 - lockedSum);
  const moved = Math.min(Math.max(requested, 0), room);
  const remaining = room - moved;
  const freeSum = free.reduce((s, i) => s + values[i], 0);
  const out = [...values];
  out[index] = moved;
  for (const i of free) {
    out[i] = freeSum > 1e-12 ? (values[i] * remaining) / freeSum : remaining / free.length;
  }
  // Float error lands on the last free group so the sum is 1 to the last bit that matters.
  const last = free[free.length - 1];
  const others = out.reduce((s, v, i) => (i === last ? s : s + v), 0);
  out[last] = Math.max(0, 1 - others);
  return out;
}

/** Scales non-negative values to sum 1 (uniform when they sum to 0). */
export function normalize(values: readonly number[]): number[] {
  const clean = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const sum = clean.reduce((s, v) => s + v, 0);
  return sum > 0 ? clean.map((v) => v / sum) : clean.map(() => 1 / clean.length);
}
