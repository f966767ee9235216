/**
 * Round tick values for chart axes (1, 2 or 5 × 10^k steps), shared by the report's charts and
 * the study's static charts, and the number of decimals that shows a step exactly.
 */

/** 0, 1, 2 or 5 × 10^k steps covering [min, max] in about `count` ticks. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max === min) return [min];
  const step = niceStep((max - min) / count);
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The smallest 1, 2 or 5 × 10^k at or above `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9)) ?? raw;
}

export interface NiceAxis {
  /** The axis ends: round values at or beyond the data's. */
  min: number;
  max: number;
  ticks: number[];
  /** Decimals that write every tick exactly (0 for a step of 5, 1 for 0.5 …). */
  decimals: number;
}

/** An axis from a tick below `low` (or at it) to one above `high`, about `intervals` apart. */
export function niceAxis(low: number, high: number, intervals = 4): NiceAxis {
  if (!Number.isFinite(low) || !Number.isFinite(high) || high <= low) {
    return niceAxis(Number.isFinite(low) ? low : 0, (Number.isFinite(low) ? low : 0) + 1);
  }
  const step = niceStep((high - low) / intervals);
  const min = Math.floor(low / step + 1e-9) * step;
  const max = Math.ceil(high / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = min; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return {
    min: ticks[0],
    max: ticks[ticks.length - 1],
    ticks,
    decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)),
  };
}
