/**
 * Temperature scaling (Guo et al. 2017): one scalar T per head, fitted on held-out data by
 * minimising the negative log-likelihood of softmax(logits / T). A golden-section search over
 * log T is exact enough and needs no gradients. T is kept in [0.25, 20]: on a calibration set
 * the head gets entirely right the NLL keeps falling as T → 0, which would only make the head
 * over-confident on generated images it has never seen.
 */
export const TEMPERATURE_RANGE: readonly [number, number] = [0.25, 20];
export function softmaxRow(
  logits: ArrayLike<number>,
  temperature: number,
  out: Float64Array,
): void {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] / temperature - max);
    sum += out[i];
  }
  for (let i = 0; i < logits.length; i++) out[i] /= sum;
}

/** Mean NLL of labels under softmax(logits / T); logits are [n × k] row-major. */
export function negativeLogLikelihood(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  temperature: number,
): number {
  const p = new Float64Array(classes);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    softmaxRow(logits.subarray(i * classes, (i + 1) * classes), temperature, p);
    total -= Math.log(Math.max(p[labels[i]], 1e-12));
  }
  return total / labels.length;
}

export function fitTemperature(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): number {
  if (labels.length === 0) return 1;
  let lo = Math.log(TEMPERATURE_RANGE[0]);
  let hi = Math.log(TEMPERATURE_RANGE[1]);
  const ratio = (Math.sqrt(5) - 1) / 2;
  const f = (logT: number) => negativeLogLikelihood(logits, labels, classes, Math.exp(logT));
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = f(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}
