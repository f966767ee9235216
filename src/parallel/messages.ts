/** Messages between the data-parallel trainer and its replica workers (structured-clone safe). */
import type { ArrayBatch } from "../backend/trainableModel";
import type { BackendRequest } from "../backend/backendInfo";
import type { OptimizerSpec, OptimizerState } from "./optimizerSpec";

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
      shares: Float32Array[][];
      /** This replica's number: it writes shares[index]. */
      index: number;
    }
  | { kind: "gradients"; batch: ArrayBatch; scale: number }
  /** Apply the summed gradient (the trainer wrote it over share 0) times `gradientScale`. */
  | { kind: "apply"; learningRate: number; gradientScale: number }
  | { kind: "weights" }
  | { kind: "restore"; weights: Float32Array[]; optimizer?: OptimizerState };

export type FromReplica =
  | { kind: "ready"; backend: string }
  | { kind: "gradients"; loss: number }
  /** `refused`: the update would have made a weight non-finite, and nothing changed. */
  | { kind: "applied"; refused: boolean }
  | { kind: "weights"; weights: Float32Array[] }
  | { kind: "restored" }
  | { kind: "error"; message: string };
