/** Wilson score interval for one proportion: good coverage even for small n or p near 0 or 1. */
import { normalQuantile } from "./normalQuantile";
import type { Interval } from "./interval";
import { assertLevel } from "./validation";

export function wilsonInterval(successes: number, n: number, level = 0.95): Interval {
  if (!Number.isInteger(n) || n < 1) throw new Error(`sample size n must be ≥ 1, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new Error(`successes must be an integer in [0, ${n}], got ${successes}`);
  }
  assertLevel(level);
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return {
    estimate: p,
    lower: Math.max(0, centre - half),
    upper: Math.min(1, centre + half),
    level,
    n,
    method: "wilson",
  };
}
