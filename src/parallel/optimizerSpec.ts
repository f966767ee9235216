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

export interface StepOptimizer {
  apply(variables: tf.Variable[], gradients: tf.Tensor[], learningRate: number): void;
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
  /**
   * `applyChecked` with the gradient in host memory (one array per variable: data-parallel
   * replicas' summed shares), where the optimizer can read it in place; false (nothing done)
   * where it cannot.
   */
  applyCheckedFromHost?(
    variables: tf.Variable[],
    gradients: Float32Array[],
    learningRate: number,
    gradientScale?: number,
  ): Promise<boolean>;
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
    const next = tf.tidy(() =>
      variables.map((v, i) => tf.sub(v, tf.mul(gradients[i], learningRate * gradientScale))),
    );
    try {
      if (!(await allFinite(next))) throw new NonFiniteStepError("update", NaN, learningRate);
      variables.forEach((v, i) => v.assign(next[i]));
      this.step += 1;
    } finally {
      tf.dispose(next);
    }
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
