/**
 * One replica's part of a data-parallel step, the same code in the trainer's thread and in every
 * worker. Each replica computes its shard's gradient into its share; then, with a barrier
 * (stepBarrier.ts) between phases and no message through the trainer:
 *   1. sums every replica's share over the variables it updates (updatePartition.ts) and posts
 *      that part's Σ g²;
 *   2. takes the loss and the gradient's global norm from what every replica posted (the same
 *      totals in every replica), refuses a non-finite one, and prepares its variables' clipped
 *      update, posting how many new weights would not be finite;
 *   3. writes the update only if no replica's part has one (so a refused step changes nothing
 *      anywhere), and publishes its new weights in shared memory;
 *   4. adopts the others' new weights.
 * Every replica ends the step with the same weights; each holds the optimizer slots of its part.
 */
import type { ArrayBatch } from "../backend/trainableModel";
import type { TrainerStepOutcome } from "./dataParallelTrainer";
import { clipFactor } from "./clippedUpdate";
import { assertFiniteStep, NonFiniteStepError } from "./nonFiniteStep";
import type { Replica } from "./replica";
import { sumIntoFirst, type ReplicaShares } from "./replicaShares";
import type { StepBarrier } from "./stepBarrier";
import type { UpdateRange } from "./updatePartition";
import { adoptWeights, publishWeights } from "./weightExchange";

export interface PartitionedStepContext {
  /** This replica's number (0: the trainer's own). */
  index: number;
  barrier: StepBarrier;
  shares: ReplicaShares;
  /** Every variable laid one after another, in shared memory: the new weights handed over. */
  handover: Float32Array;
  /** Each replica's variables (ranges[index] is this replica's). */
  ranges: UpdateRange[];
}

export interface PartitionedStepRequest {
  /** This replica's shard of the batch and its share of the batch (rows / all rows). */
  batch: ArrayBatch;
  scale: number;
  learningRate: number;
  /** Clip the summed gradient to this global L2 norm. */
  clipNorm?: number;
}

/** A replica's step, done but for taking the others' new weights. */
export interface PartitionedStepDone {
  outcome: TrainerStepOutcome;
  /**
   * Copies the other replicas' new weights in (phase 4): once, before this replica computes
   * anything else. A worker replies first, so the trainer is not kept waiting for the copy.
   */
  adoptOthers(): void;
}

/**
 * Runs this replica's part of the step. A non-finite loss, gradient norm or update throws
 * NonFiniteStepError in every replica alike, with nothing changed; any other failure aborts the
 * barrier, so no replica waits for this one.
 */
export async function partitionedStep(
  replica: Replica,
  context: PartitionedStepContext,
  request: PartitionedStepRequest,
): Promise<PartitionedStepDone> {
  const { index, barrier, shares, ranges } = context;
  const own = ranges[index];
  const variables = replica.model.variables;
  let outcome: TrainerStepOutcome;
  try {
    const shardLoss = await replica.gradientsInto(
      request.batch,
      request.scale,
      shares.shares[index],
    );
    barrier.post(index, "loss", shardLoss);
    await barrier.arrive();
    barrier.post(index, "squares", sumIntoFirst(shares, own));
    await barrier.arrive();
    const loss = barrier.total("loss");
    const gradientNorm = Math.sqrt(barrier.total("squares"));
    outcome = { loss, gradientNorm };
    const { learningRate } = request;
    assertFiniteStep({ loss, gradientNorm, learningRate });
    const prepared = await replica.prepareUpdateFromHost(
      shares.shares[0].slice(own.firstVariable, own.endVariable),
      learningRate,
      clipFactor(gradientNorm, request.clipNorm),
    );
    const handover = context.handover.subarray(own.start, own.end);
    let published: boolean;
    try {
      barrier.post(index, "nonFinite", prepared.nonFinite);
      await barrier.arrive();
      if (barrier.total("nonFinite") > 0) {
        throw new NonFiniteStepError("update", NaN, learningRate);
      }
      published = prepared.commit(handover);
    } finally {
      prepared.dispose();
    }
    if (!published) await publishWeights(replica.updatedVariables, handover);
    await barrier.arrive();
  } catch (error) {
    // Every replica refuses a non-finite step at the same point; anything else is this one's.
    if (!(error instanceof NonFiniteStepError)) barrier.abort();
    throw error;
  }
  const adoptOthers = () => {
    try {
      ranges.forEach((range, r) => {
        if (r === index) return;
        adoptWeights(
          variables.slice(range.firstVariable, range.endVariable),
          context.handover.subarray(range.start, range.end),
        );
      });
    } catch (error) {
      barrier.abort();
      throw error;
    }
  };
  return { outcome, adoptOthers };
}
