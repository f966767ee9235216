/**
 * Distributional alignment's resumable state: the trained parameters, their EMA, the optimiser's
 * moments and the step reached, in one atomically written checkpoint. A run resumed from it
 * continues exactly as an uninterrupted one (every step's randomness derives from (seed, step)).
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from "../io/checkpoint";
import type { StepOptimizer } from "../parallel/optimizerSpec";
import type { WeightAverage } from "../pipeline/ema";
import { optimizerStateFrom, optimizerTensors } from "../pipeline/optimizerCheckpoint";
import type { AlignmentTrainableKind } from "./alignmentTrainable";

export const ALIGNMENT_STATE_KIND = "distributional-alignment-state";

/** What must match for a state file to belong to this run. */
export interface AlignmentRunIdentity {
  seed: number;
  batchSize: number;
  trainable: AlignmentTrainableKind;
  parameterShapes: number[][];
}

interface StateMetadata extends AlignmentRunIdentity {
  step: number;
  iterations: number;
}

export async function saveAlignmentState(
  file: string,
  identity: AlignmentRunIdentity,
  step: number,
  variables: tf.Variable[],
  optimizer: StepOptimizer,
  ema: WeightAverage | undefined,
): Promise<void> {
  const tensors: Record<string, CheckpointTensor> = {};
  for (const [i, v] of variables.entries()) {
    tensors[`param.${i}`] = { values: Float32Array.from(await v.data()), shape: v.shape };
  }
  ema?.values.forEach((values, i) => {
    tensors[`ema.${i}`] = { values, shape: variables[i].shape };
  });
  const optimizerState = await optimizer.state();
  Object.assign(tensors, optimizerTensors(optimizerState));
  const metadata: StateMetadata = { ...identity, step, iterations: optimizerState.iterations };
  saveCheckpoint(file, { kind: ALIGNMENT_STATE_KIND, metadata, tensors });
}

/** Restores parameters, EMA and optimiser from `file`; returns the step it was written at. */
export function restoreAlignmentState(
  file: string,
  identity: AlignmentRunIdentity,
  variables: tf.Variable[],
  optimizer: StepOptimizer,
  ema: WeightAverage | undefined,
): number {
  const state = loadCheckpoint<StateMetadata>(file, ALIGNMENT_STATE_KIND);
  const saved = state.metadata;
  const mismatch: string[] = [];
  if (saved.seed !== identity.seed) mismatch.push(`seed ${saved.seed} ≠ ${identity.seed}`);
  if (saved.batchSize !== identity.batchSize) {
    mismatch.push(`batch size ${saved.batchSize} ≠ ${identity.batchSize}`);
  }
  if (saved.trainable !== identity.trainable) {
    mismatch.push(`trainable ${saved.trainable} ≠ ${identity.trainable}`);
  }
  if (JSON.stringify(saved.parameterShapes) !== JSON.stringify(identity.parameterShapes)) {
    mismatch.push("trained parameter shapes differ (another LoRA rank or token count?)");
  }
  if (mismatch.length > 0) {
    throw new Error(`${file} belongs to another run: ${mismatch.join("; ")}`);
  }
  variables.forEach((v, i) =>
    tf.tidy(() => v.assign(tf.tensor(state.tensors[`param.${i}`].values, v.shape))),
  );
  if (ema) {
    ema.values.forEach((values, i) => {
      const stored = state.tensors[`ema.${i}`];
      values.set(stored ? stored.values : state.tensors[`param.${i}`].values);
    });
  }
  optimizer.setState(optimizerStateFrom(state.tensors, saved.iterations));
  return saved.step;
}
