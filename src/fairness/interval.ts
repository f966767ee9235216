/** A point estimate with its confidence interval and the sample size behind it. */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Sample size the estimate rests on (images, or images + calibration set where stated). */
  n: number;
  /** How the interval was made: "wilson", "percentile-bootstrap", … */
  method: string;
  /** Bootstrap resamples, for bootstrap intervals. */
  resamples?: number;
  /** Seed of the bootstrap's random stream, for bootstrap intervals. */
  seed?: number;
}

/** Whether `value` lies in the closed interval. */
export function intervalContains(interval: Interval, value: number): boolean {
  return interval.lower <= value && value <= interval.upper;
}
