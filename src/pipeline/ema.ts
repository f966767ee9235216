import * as tf from "@tensorflow/tfjs-core";

/** Exponential moving average of weights, kept as plain arrays beside the live variables. */
export class WeightAverage {
  readonly values: Float32Array[];

  constructor(
    initial: Float32Array[],
    readonly decay: number,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${decay}`);
    this.values = initial.map((w) => Float32Array.from(w));
  }

  /** avg ← decay·avg + (1 − decay)·w. */
  update(weights: Float32Array[]): void {
    const keep = this.decay;
    const take = 1 - keep;
    weights.forEach((w, i) => {
      const avg = this.values[i];
      for (let j = 0; j < avg.length; j++) avg[j] = keep * avg[j] + take * w[j];
    });
  }

  /** Writes the averaged weights into `variables` (same order and sizes as the initial weights). */
  assignTo(variables: tf.Variable[]): void {
    variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(this.values[i], v.shape))));
  }
}
