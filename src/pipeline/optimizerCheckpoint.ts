/**
 * An optimiser's state inside a training-state checkpoint: each slot (Adam's moments, …) as a
 * tensor named "optimizer.<slot>", beside the trainer's own tensors; the iteration count goes in
 * the checkpoint's metadata.
 */
import type { CheckpointTensor } from "../io/checkpoint";
import type { OptimizerState } from "../parallel/optimizerSpec";

const PREFIX = "optimizer.";

/** The optimiser's slots as checkpoint tensors. */
export function optimizerTensors(state: OptimizerState): Record<string, CheckpointTensor> {
  const tensors: Record<string, CheckpointTensor> = {};
  for (const slot of state.slots) {
    tensors[`${PREFIX}${slot.name}`] = { values: slot.values, shape: slot.shape };
  }
  return tensors;
}

/** The optimiser state `optimizerTensors` saved among `tensors`, with its iteration count. */
export function optimizerStateFrom(
  tensors: Record<string, CheckpointTensor>,
  iterations: number,
): OptimizerState {
  return {
    iterations,
    slots: Object.entries(tensors)
      .filter(([name]) => name.startsWith(PREFIX))
      .map(([name, t]) => ({ name: name.slice(PREFIX.length), shape: t.shape, values: t.values })),
  };
}
