/**
 * One optimiser update in the calling thread, for the mitigation methods: the gradients of a loss
 * whose side outputs (per-sample losses, batch proportions) the method needs every step, which
 * the data-parallel trainer's scalar-loss protocol does not carry. Clips to a global L2 norm like
 * the trainer does, applies, frees every gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertFiniteStep } from "../parallel/nonFiniteStep";
import type { StepOptimizer } from "../parallel/optimizerSpec";

export interface GradientStepResult<Extras> {
  loss: number;
  gradientNorm: number;
  extras: Extras;
}

/**
 * Computes the gradient of `loss` with respect to `variables`, clips it to `clipNorm`, and applies
 * it. `loss` returns the scalar and any side tensors (kept alive with tf.keep by this function,
 * read, then freed); `read` turns them into plain values.
 */
export async function gradientStep<Side extends tf.Tensor[], Extras>(
  variables: tf.Variable[],
  optimizer: StepOptimizer,
  loss: () => { total: tf.Scalar; side: Side },
  read: (side: Side) => Promise<Extras>,
  options: { learningRate: number; clipNorm?: number },
): Promise<GradientStepResult<Extras>> {
  let side: Side | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = loss();
    side = out.side.map((t) => tf.keep(t)) as Side;
    return out.total;
  }, variables);
  try {
    const lossValue = (await value.data())[0];
    const ordered = variables.map((v) => grads[v.name]);
    const gradientNorm = await applyClippedGradients(variables, ordered, optimizer, {
      ...options,
      loss: lossValue,
    });
    const extras = await read(side as Side);
    return { loss: lossValue, gradientNorm, extras };
  } finally {
    value.dispose();
    tf.dispose(grads);
    if (side) tf.dispose(side);
  }
}

/**
 * Scales `gradients` (in `variables`' order) down to a global L2 norm of at most `clipNorm` and
 * lets the optimiser apply them; returns the norm before clipping. A non-finite `loss` (when
 * given), gradient or update throws NonFiniteStepError before anything is applied. The gradients
 * stay the caller's to free.
 */
export async function applyClippedGradients(
  variables: tf.Variable[],
  gradients: tf.Tensor[],
  optimizer: StepOptimizer,
  options: { learningRate: number; clipNorm?: number; loss?: number },
): Promise<number> {
  const squares = tf.tidy(() => tf.addN(gradients.map((g) => tf.sum(tf.square(g)))));
  const gradientNorm = Math.sqrt((await squares.data())[0]);
  squares.dispose();
  assertFiniteStep({ loss: options.loss, gradientNorm, learningRate: options.learningRate });
  const clipNorm = options.clipNorm;
  const factor = clipNorm !== undefined && gradientNorm > clipNorm ? clipNorm / gradientNorm : 1;
  const applied = factor === 1 ? gradients : gradients.map((g) => tf.mul(g, factor));
  try {
    await optimizer.applyChecked(variables, applied, options.learningRate);
  } finally {
    if (factor !== 1) tf.dispose(applied);
  }
  return gradientNorm;
}
