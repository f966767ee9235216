/** Optimizers as plain data, so every replica builds the identical one. */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "./adamW";
import { allFinite, NonFiniteStepError } from "./nonFiniteStep";

export type OptimizerSpec =
  | { name: "adam"; learningRate: number; beta1?: number; beta2?: number; epsilon?: number }
  /** Adam with decoupled weight decay (Loshchilov & Hutter): p ← p·(1 − lr·wd), then Adam. */
  | {
      name: "adamw";
      learningRate: number;
      weightDecay: number;
      beta1?: number;
      beta2?: number;
      epsilon?: number;
    }
  | { name: "sgd"; learningRate: number };

/** Optimizer slot values (moments, step count) as plain arrays, for checkpoints. */
export interface OptimizerState {
  iterations: number;
  slots: { name: string; shape: number[]; values: Float32Array }[];
}

/**
 * An update computed and checked but not yet written: data-parallel replicas each prepare their
 * part, agree that no part has a non-finite weight, then commit (updatePartition.ts).
 */
export interface PreparedUpdate {
  /** How many new weights would not be finite; commit writes only where this is 0. */
  nonFinite: number;
  /**
   * Writes the new weights (and slots) and counts the step. Where it can in the same pass, also
   * copies the new weights into `publishInto` (a data-parallel replica's handover, one variable
   * after another) and says so: true.
   */
  commit(publishInto?: Float32Array): boolean;
  /** Frees what the preparation holds (after commit, or instead of it). */
  dispose(): void;
}

/** Commits `prepared` unless a weight would not be finite (NonFiniteStepError, nothing changed). */
export function commitChecked(prepared: PreparedUpdate, learningRate: number): void {
  try {
    if (prepared.nonFinite > 0) throw new NonFiniteStepError("update", NaN, learningRate);
    prepared.commit();
  } finally {
    prepared.dispose();
  }
}

export interface StepOptimizer {
  apply(variables: tf.Variable[], gradients: tf.Tensor[], learningRate: number): void;
  /** The checked update of `applyChecked`, prepared but not written. */
  prepare(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale?: number,
  ): Promise<PreparedUpdate>;
  /**
   * `prepare` with the gradient in host memory (one array per variable: data-parallel replicas'
   * summed shares), read in place; undefined (nothing done) where the optimizer cannot.
   */
  prepareFromHost?(
    variables: tf.Variable[],
    gradients: Float32Array[],
    learningRate: number,
    gradientScale?: number,
  ): PreparedUpdate | undefined;
  /**
   * `apply`, unless an updated weight would be NaN/±Inf: then it throws NonFiniteStepError and
   * changes nothing (weights, moments and step count stay as they were). The gradients are
   * multiplied by `gradientScale` (default 1) first: clipping without a pass of its own.
   */
  applyChecked(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale?: number,
  ): Promise<void>;
  state(): Promise<OptimizerState>;
  setState(state: OptimizerState): void;
  dispose(): void;
}

class Sgd implements StepOptimizer {
  private step = 0;
  apply(variables: tf.Variable[], gradients: tf.Tensor[], learningRate: number): void {
    tf.tidy(() =>
      variables.forEach((v, i) => v.assign(tf.sub(v, tf.mul(gradients[i], learningRate)))),
    );
    this.step += 1;
  }
  async applyChecked(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<void> {
    commitChecked(
      await this.prepare(variables, gradients, learningRate, gradientScale),
      learningRate,
    );
  }
  async prepare(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<PreparedUpdate> {
    const next = tf.tidy(() =>
      variables.map((v, i) => tf.sub(v, tf.mul(gradients[i], learningRate * gradientScale))),
    );
    let finite = false;
    try {
      finite = await allFinite(next);
    } catch (error) {
      tf.dispose(next);
      throw error;
    }
    return {
      nonFinite: finite ? 0 : 1,
      commit: () => {
        variables.forEach((v, i) => v.assign(next[i]));
        this.step += 1;
        return false;
      },
      dispose: () => tf.dispose(next),
    };
  }
  async state(): Promise<OptimizerState> {
    return { iterations: this.step, slots: [] };
  }
  setState(state: OptimizerState): void {
    this.step = state.iterations;
  }
  dispose(): void {}
}

export function buildOptimizer(spec: OptimizerSpec): StepOptimizer {
  if (!(spec.learningRate > 0)) {
    throw new Error(`learningRate must be > 0, got ${spec.learningRate}`);
  }
  switch (spec.name) {
    case "adam":
    case "adamw": {
      const weightDecay = spec.name === "adamw" ? spec.weightDecay : 0;
      if (!(weightDecay >= 0)) throw new Error(`weightDecay must be ≥ 0, got ${weightDecay}`);
      return new AdamW({
        learningRate: spec.learningRate,
        weightDecay,
        beta1: spec.beta1 ?? 0.9,
        beta2: spec.beta2 ?? 0.999,
        epsilon: spec.epsilon ?? 1e-8,
      });
    }
    case "sgd":
      return new Sgd();
    default:
      throw new Error(`unknown optimizer ${JSON.stringify(spec)}`);
  }
}
