/**
 * The one clipped update every loop applies (the trainer training alone, every method's step):
 * the gradient's global L2 norm as one kernel, read with the loss; the step refused when either
 * is not finite; then the optimizer's update with the gradient multiplied by the clip factor
 * inside it (no pass of its own). The data-parallel trainer sums its replicas' norms itself and
 * uses the same factor.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedSumOfSquares } from "../backend/fusedKernels/fusedSumOfSquares";
import { assertFiniteStep } from "./nonFiniteStep";
import type { StepOptimizer } from "./optimizerSpec";

/** What global-norm clipping multiplies the gradients by. */
export function clipFactor(gradientNorm: number, clipNorm?: number): number {
  return clipNorm !== undefined && gradientNorm > clipNorm ? clipNorm / gradientNorm : 1;
}

export interface ClippedUpdate {
  learningRate: number;
  /** Clip the gradient to this global L2 norm. */
  clipNorm?: number;
  /** The step's loss: checked finite before anything is applied, read with the norm. */
  loss?: tf.Tensor | number;
}

/**
 * Applies `gradients` (in `variables`' order) clipped to `clipNorm`; returns the loss (NaN when
 * none was given) and the norm before clipping. A non-finite loss, norm or update throws
 * NonFiniteStepError before anything changes. The gradients stay the caller's to free.
 */
export async function applyClippedGradients(
  variables: tf.Variable[],
  gradients: tf.Tensor[],
  optimizer: StepOptimizer,
  update: ClippedUpdate,
): Promise<{ loss: number; gradientNorm: number }> {
  const squares = fusedSumOfSquares(gradients);
  let loss: number;
  let sumOfSquares: number;
  try {
    const lossRead =
      update.loss instanceof tf.Tensor ? update.loss.data() : Promise.resolve([update.loss ?? NaN]);
    const [lossValue, squaresValue] = await Promise.all([lossRead, squares.data()]);
    loss = lossValue[0];
    sumOfSquares = squaresValue[0];
  } finally {
    squares.dispose();
  }
  const gradientNorm = Math.sqrt(sumOfSquares);
  const { learningRate } = update;
  assertFiniteStep({
    loss: update.loss === undefined ? undefined : loss,
    gradientNorm,
    learningRate,
  });
  const factor = clipFactor(gradientNorm, update.clipNorm);
  await optimizer.applyChecked(variables, gradients, learningRate, factor);
  return { loss, gradientNorm };
}
