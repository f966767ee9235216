/** Messages between the data-parallel trainer and its replica workers (structured-clone safe). */
import type { BackendRequest } from "../backend/backendInfo";
import type { OptimizerSpec, OptimizerState } from "./optimizerSpec";
import type { PartitionedStepRequest } from "./partitionedStep";
import type { ReplicaShares } from "./replicaShares";
import type { StepBarrierMemory } from "./stepBarrier";
import type { UpdateRange } from "./updatePartition";

export interface ModelSpec {
  /** Absolute path of a CommonJS module exporting the factory. */
  module: string;
  /** Name of the exported factory: (options) => TrainableModel. */
  exportName: string;
  options: Record<string, unknown>;
}

export type ToReplica =
  | {
      kind: "init";
      model: ModelSpec;
      optimizer: OptimizerSpec;
      backend: BackendRequest;
      weights: Float32Array[];
      /** Every replica's gradient share, views on the trainer's shared memory (replicaShares.ts). */
      shares: ReplicaShares;
      /** This replica's number: it writes shares[index] and updates ranges[index]. */
      index: number;
      /** The step's barrier, the new weights handed over and every replica's variables. */
      barrier: StepBarrierMemory;
      handover: Float32Array;
      ranges: UpdateRange[];
    }
  /** This replica's part of a step (partitionedStep.ts). */
  | { kind: "step"; request: PartitionedStepRequest }
  /** The optimizer slots of the variables this replica updates. */
  | { kind: "optimizerState" }
  | { kind: "weights" }
  | { kind: "restore"; weights: Float32Array[]; optimizer?: OptimizerState };

export type FromReplica =
  | { kind: "ready"; backend: string }
  /** `refused`: the step was not finite (NonFiniteStepError), and nothing changed. */
  | { kind: "stepped"; refused: boolean }
  | { kind: "optimizerState"; state: OptimizerState }
  | { kind: "weights"; weights: Float32Array[] }
  | { kind: "restored" }
  | { kind: "error"; message: string };
