/**
 * Fails a test when a training step leaks tfjs tensors: runs warm-up steps (optimizers create
 * their slot variables lazily), then checks that the live tensor count stays flat.
 */
import * as tf from "@tensorflow/tfjs-core";

export async function expectNoTensorLeak(
  step: () => unknown | Promise<unknown>,
  { warmup = 1, steps = 3 }: { warmup?: number; steps?: number } = {},
): Promise<void> {
  for (let i = 0; i < warmup; i++) await step();
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    await step();
    counts.push(tf.memory().numTensors);
  }
  const leaked = counts.map((c) => c - before);
  if (leaked.some((d) => d !== 0)) {
    throw new Error(`tensor count grew across steps: ${before} → ${counts.join(", ")}`);
  }
}
