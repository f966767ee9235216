/**
 * A training step whose loss, gradient or update is NaN/±Inf must not be applied: one such update
 * turns every weight it touches into NaN, and a run that carries on saves a model that draws black
 * images. The optimisers' callers check the loss and the global gradient norm just before applying
 * (both are already read there, for the progress events and for clipping); the optimisers check
 * the updated weights before assigning them (a huge learning rate overflows them even from finite
 * gradients). The step loops turn the refusal into an error that says which step failed and where
 * the last good state is.
 */
import * as tf from "@tensorflow/tfjs-core";

export type NonFiniteQuantity = "loss" | "gradient norm" | "update";

/** Thrown before an update is applied: the weights still hold the previous step's values. */
export class NonFiniteStepError extends Error {
  constructor(
    readonly quantity: NonFiniteQuantity,
    readonly value: number,
    readonly learningRate: number,
  ) {
    const what =
      quantity === "update"
        ? "the update would make weights NaN/Inf"
        : `the ${quantity} is ${formatNumber(value)}`;
    super(`${what} (learning rate ${formatNumber(learningRate)} too high?)`);
    this.name = "NonFiniteStepError";
  }
}

/** "1e30" rather than JavaScript's "1e+30": how a user types it on the command line. */
function formatNumber(value: number): string {
  return String(value).replace("e+", "e");
}

/** Throws NonFiniteStepError unless the step's loss (when known) and gradient norm are finite. */
export function assertFiniteStep(step: {
  loss?: number;
  gradientNorm: number;
  learningRate: number;
}): void {
  const { loss, gradientNorm, learningRate } = step;
  if (loss !== undefined && !Number.isFinite(loss)) {
    throw new NonFiniteStepError("loss", loss, learningRate);
  }
  if (!Number.isFinite(gradientNorm)) {
    throw new NonFiniteStepError("gradient norm", gradientNorm, learningRate);
  }
}

/**
 * Whether every value of `updated` is finite, read as one scalar: a sum is NaN/±Inf when any term
 * is (finite weights summing past float32's range, ~3.4e38, have diverged anyway).
 */
export async function allFinite(updated: tf.Tensor[]): Promise<boolean> {
  if (updated.length === 0) return true;
  const total = tf.tidy(() => tf.addN(updated.map((t) => tf.sum(t))));
  const value = (await total.data())[0];
  total.dispose();
  return Number.isFinite(value);
}

/** The last state a run wrote (or resumed from), for the stop message. */
export interface SavedState {
  /** Absent when the file's name is not known to the loop (a resumed run's). */
  file?: string;
  step: number;
}

/** The error a step loop throws for a refused step (1-based `step`). */
export function stoppedRunError(
  refused: NonFiniteStepError,
  step: number,
  lastState: SavedState | undefined,
): Error {
  const where =
    lastState === undefined
      ? "no state saved yet"
      : lastState.file === undefined
        ? `the last good state is the one this run resumed from (step ${lastState.step})`
        : `the last good state is in ${lastState.file} (step ${lastState.step})`;
  const error = new Error(`step ${step}: ${refused.message}; stopped without saving — ${where}`);
  error.cause = refused;
  return error;
}
