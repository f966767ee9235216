/**
 * One model replica: computes gradients of its share of a batch and applies summed gradients.
 * The same class runs in the trainer's own thread (replica 0) and inside each worker, so every
 * replica does exactly the same arithmetic.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ArrayBatch, TrainableModel, TrainableModelFactory } from "../backend/trainableModel";
import { ReplayedStep, sinkOutputs } from "../backend/kernelReplay";
import type { ModelSpec } from "./messages";
import {
  buildOptimizer,
  type OptimizerSpec,
  type OptimizerState,
  type PreparedUpdate,
  type StepOptimizer,
} from "./optimizerSpec";
import { statePart } from "./optimizerStateParts";
import { updatePartition, type UpdateRange } from "./updatePartition";

export function loadModel(spec: ModelSpec): TrainableModel {
  const mod = require(spec.module) as Record<string, unknown>;
  const factory = mod[spec.exportName];
  if (typeof factory !== "function") {
    throw new Error(`${spec.module} has no exported factory "${spec.exportName}"`);
  }
  return (factory as TrainableModelFactory)(spec.options);
}

export function toTensors(batch: ArrayBatch): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(batch)) {
    const dtype = t.dtype ?? (t.values instanceof Int32Array ? "int32" : "float32");
    out[name] = tf.tensor(t.values, t.shape, dtype);
  }
  return out;
}

function wholeRange(variables: tf.Variable[]): UpdateRange {
  return updatePartition(
    variables.map((v) => v.size),
    1,
  )[0];
}

export class Replica {
  readonly optimizer: StepOptimizer;
  /** The gradient step, replayed as its kernels where the model allows it. */
  private readonly replayed = new ReplayedStep();
  private range: UpdateRange | undefined;

  constructor(
    readonly model: TrainableModel,
    private readonly optimizerSpec: OptimizerSpec,
    /** False when the caller lent its live model: the replica must not free it. */
    private readonly ownsModel = true,
  ) {
    this.optimizer = buildOptimizer(optimizerSpec);
  }

  /**
   * The loss of `batch` (times `scale`, a shard's share of the batch) and its gradients in
   * variable order, left on the backend (the caller disposes them): a replica training alone
   * never downloads them.
   */
  gradientsOnBackend(batch: ArrayBatch, scale = 1): { value: tf.Scalar; gradients: tf.Tensor[] } {
    const { inputs, step, label } = this.gradientStep(batch, scale);
    try {
      const [value, ...gradients] = this.model.replayable
        ? this.replayed.run(inputs, step, label)
        : step();
      return { value: value as tf.Scalar, gradients };
    } finally {
      tf.dispose(inputs);
    }
  }

  /**
   * Writes the gradients of `scale · loss(shard)` into `into` (one array per variable, in
   * variable order: the trainer's shared memory) and returns the scaled loss. A replayed step
   * on wasm copies them there from the heap, with no tensor made for them.
   */
  async gradientsInto(batch: ArrayBatch, scale: number, into: Float32Array[]): Promise<number> {
    if (into.length !== this.model.variables.length) {
      throw new Error(
        `expected room for ${this.model.variables.length} gradients, got ${into.length}`,
      );
    }
    const { inputs, step, label } = this.gradientStep(batch, scale);
    const sinks = [undefined, ...into];
    let value: tf.Tensor | undefined;
    try {
      [value] = this.model.replayable
        ? await this.replayed.runInto(inputs, step, sinks, label)
        : await sinkOutputs(step(), sinks);
      return (await (value as tf.Tensor).data())[0];
    } finally {
      tf.dispose([...inputs, ...(value ? [value] : [])]);
    }
  }

  /** The inputs and the step (loss and gradients) of `scale · loss(batch)`, and its replay label. */
  private gradientStep(batch: ArrayBatch, scale: number) {
    const tensors = toTensors(batch);
    // The scale is an input, not a constant: a replayed step would keep the recorded one.
    const scaleTensor = scale === 1 ? undefined : tf.scalar(scale);
    const inputs = [...Object.values(tensors), ...(scaleTensor ? [scaleTensor] : [])];
    const variables = this.model.variables;
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const loss = this.model.loss(tensors) as tf.Scalar;
          return scaleTensor ? (tf.mul(loss, scaleTensor) as tf.Scalar) : loss;
        }, variables);
        return [value, ...variables.map((v) => grads[v.name])];
      });
    return { inputs, step, label: Object.keys(tensors).join(",") };
  }

  /**
   * One optimizer update with gradients on the backend, multiplied by `gradientScale` first;
   * refused (NonFiniteStepError, nothing changed) if a weight would become NaN/±Inf.
   */
  async applyTensorsChecked(
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<void> {
    await this.optimizer.applyChecked(this.model.variables, gradients, learningRate, gradientScale);
  }

  /**
   * The checked update of the variables this replica updates (`updateRange`) from gradients in
   * host memory (one array per such variable: the replicas' summed shares), prepared but not
   * written: read in place by the optimizer where it can, else uploaded.
   */
  async prepareUpdateFromHost(
    gradients: Float32Array[],
    learningRate: number,
    gradientScale: number,
  ): Promise<PreparedUpdate> {
    const vars = this.updatedVariables;
    if (gradients.length !== vars.length) {
      throw new Error(`expected ${vars.length} gradients, got ${gradients.length}`);
    }
    const inPlace = this.optimizer.prepareFromHost?.(vars, gradients, learningRate, gradientScale);
    if (inPlace) return inPlace;
    const tensors = vars.map((v, i) => tf.tensor(gradients[i], v.shape));
    let prepared: PreparedUpdate;
    try {
      prepared = await this.optimizer.prepare(vars, tensors, learningRate, gradientScale);
    } catch (error) {
      tf.dispose(tensors);
      throw error;
    }
    return {
      nonFinite: prepared.nonFinite,
      commit: (publishInto) => prepared.commit(publishInto),
      dispose: () => {
        prepared.dispose();
        tf.dispose(tensors);
      },
    };
  }

  /**
   * The variables this replica's optimizer updates: all of them, or one replica's part of a
   * data-parallel update (updatePartition.ts). Set once, before the first update: the optimizer's
   * slots follow these variables.
   */
  get updateRange(): UpdateRange {
    return this.range ?? wholeRange(this.model.variables);
  }

  set updateRange(range: UpdateRange) {
    this.range = range;
  }

  get updatedVariables(): tf.Variable[] {
    const { firstVariable, endVariable } = this.updateRange;
    return this.model.variables.slice(firstVariable, endVariable);
  }

  async weights(): Promise<Float32Array[]> {
    return Promise.all(this.model.variables.map(async (v) => (await v.data()) as Float32Array));
  }

  setWeights(weights: Float32Array[]): void {
    const vars = this.model.variables;
    if (weights.length !== vars.length) {
      throw new Error(`expected ${vars.length} weight arrays, got ${weights.length}`);
    }
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(weights[i], v.shape))));
  }

  /** The optimizer's slots of the variables this replica updates, numbered from its first. */
  optimizerState(): Promise<OptimizerState> {
    return this.optimizer.state();
  }

  /** Takes, of a whole model's optimizer state, the slots of the variables this replica updates. */
  async setOptimizerState(state: OptimizerState): Promise<void> {
    const { firstVariable, endVariable } = this.updateRange;
    this.optimizer.setState(statePart(state, firstVariable, endVariable));
  }

  dispose(): void {
    this.optimizer.dispose();
    if (this.ownsModel) this.model.dispose();
  }
}
