/**
 * The contract between a model and the training machinery that runs it (in one thread or
 * replicated over workers): named variables and a loss on a batch of plain arrays.
 */
import type * as tf from "@tensorflow/tfjs-core";

/** A tensor as plain data, safe to send between threads. */
export interface ArrayTensor {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype?: "float32" | "int32";
}

export type ArrayBatch = Record<string, ArrayTensor>;

export interface TrainableModel {
  /** Trainable variables, in a fixed order shared by every replica. */
  readonly variables: tf.Variable[];
  /** Mean loss over the batch (a scalar). Called inside tf.tidy by the trainer. */
  loss(batch: Record<string, tf.Tensor>): tf.Scalar;
  /**
   * The loss is a function of the batch's tensors and tensors the model holds alone (no value
   * read mid-way, nothing random or step-dependent drawn inside): its gradient step may then be
   * recorded once per batch shape and replayed as the kernels it ran (kernelReplay.ts).
   */
  readonly replayable?: boolean;
  dispose(): void;
}

/** A module that builds a model: what a data-parallel worker `require`s. */
export type TrainableModelFactory = (options: Record<string, unknown>) => TrainableModel;
