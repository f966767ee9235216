/**
 * One optimiser update in the calling thread, for the mitigation methods: the gradients of a loss
 * whose side outputs (per-sample losses, batch proportions) the method needs every step, which
 * the data-parallel trainer's scalar-loss protocol does not carry. Clipped and applied as the
 * trainer's are (parallel/clippedUpdate.ts); frees every gradient.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyClippedGradients } from "../parallel/clippedUpdate";
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
    const ordered = variables.map((v) => grads[v.name]);
    const { loss: lossValue, gradientNorm } = await applyClippedGradients(
      variables,
      ordered,
      optimizer,
      { ...options, loss: value },
    );
    const extras = await read(side as Side);
    return { loss: lossValue, gradientNorm, extras };
  } finally {
    value.dispose();
    tf.dispose(grads);
    if (side) tf.dispose(side);
  }
}
