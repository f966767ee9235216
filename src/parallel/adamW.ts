/**
 * Adam with decoupled weight decay (AdamW). Written out rather than wrapping tfjs's Adam so the
 * bias corrections come from the step count (1 − βᵗ) instead of a running product: a run
 * resumed from a checkpoint then continues bit-for-bit like an uninterrupted one.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  fusedAdamW,
  type AdamWStep,
  type AdamWStepAttrs,
} from "../backend/fusedKernels/fusedAdamW";
import {
  adamWInPlace,
  adamWInPlaceFromHost,
  UpdateBounds,
} from "../backend/nativeKernels/nativeAdamWInPlace";
import "../backend/fusedKernels/registerFusedKernels";
import { allFinite, NonFiniteStepError } from "./nonFiniteStep";
import type { OptimizerState, StepOptimizer } from "./optimizerSpec";

export interface AdamWOptions {
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class AdamW implements StepOptimizer {
  private firstMoments: tf.Variable[] = [];
  private secondMoments: tf.Variable[] = [];
  private step = 0;
  /** What the last in-place update left: lets the next one's check read only the gradient. */
  private readonly bounds = new UpdateBounds();

  constructor(private readonly options: AdamWOptions) {}

  /** p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε), with m̂, v̂ bias-corrected at step t. */
  apply(variables: tf.Variable[], gradients: tf.Tensor[], learningRate: number): void {
    // In place where it can; it writes nothing when a weight would not be finite, and the
    // kernel then writes what it computes, as unchecked `apply` always has.
    if (this.updateInPlaceFrom(variables, gradients, learningRate, 1) === 0) return;
    tf.tidy(() => this.commit(variables, this.nextValues(variables, gradients, learningRate)));
  }

  /**
   * `apply`, unless an updated weight would be NaN/±Inf: then it throws and changes nothing.
   * On wasm with the native kernels, in place (nativeAdamWInPlace.ts); else the fused kernel.
   */
  async applyChecked(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<void> {
    const nonFinite = this.updateInPlaceFrom(variables, gradients, learningRate, gradientScale);
    if (nonFinite !== undefined) {
      if (nonFinite > 0) throw new NonFiniteStepError("update", NaN, learningRate);
      return;
    }
    const next = tf.tidy(() => this.nextValues(variables, gradients, learningRate, gradientScale));
    try {
      const finite = next.nonFinite
        ? (await next.nonFinite.data())[0] === 0
        : await allFinite(next.params);
      if (!finite) throw new NonFiniteStepError("update", NaN, learningRate);
      this.commit(variables, next);
    } finally {
      tf.dispose([
        ...next.params,
        ...next.m,
        ...next.v,
        ...(next.nonFinite ? [next.nonFinite] : []),
      ]);
    }
  }

  /**
   * `applyChecked` with the gradient in host memory (one array per variable: data-parallel
   * replicas' summed shares), read in place by the native update: false where that cannot run
   * here (the caller then uploads it for `applyChecked`).
   */
  async applyCheckedFromHost(
    variables: tf.Variable[],
    gradients: Float32Array[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<boolean> {
    const nonFinite = this.updateInPlace(variables, learningRate, gradientScale, (attrs, m, v) =>
      adamWInPlaceFromHost(variables, gradients, m, v, attrs, this.bounds),
    );
    if (nonFinite === undefined) return false;
    if (nonFinite > 0) throw new NonFiniteStepError("update", NaN, learningRate);
    return true;
  }

  /** Step t + 1's params and moments, computed but not yet assigned. */
  private nextValues(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): AdamWStep {
    this.ensureMoments(variables);
    // One fused kernel for every variable (fusedKernels/fusedAdamW.ts), not ~15 per variable.
    return fusedAdamW(
      variables,
      gradients,
      this.firstMoments,
      this.secondMoments,
      this.stepAttrs(learningRate, gradientScale),
    );
  }

  /**
   * The step where the weights live (nativeAdamWInPlace.ts), `update` given step t + 1's settings
   * and the moments: how many new weights would not be finite (0: updated, step counted;
   * otherwise nothing written), or undefined where it cannot run.
   */
  private updateInPlace(
    variables: tf.Variable[],
    learningRate: number,
    gradientScale: number,
    update: (attrs: AdamWStepAttrs, m: tf.Variable[], v: tf.Variable[]) => number | undefined,
  ): number | undefined {
    this.ensureMoments(variables);
    const attrs = this.stepAttrs(learningRate, gradientScale);
    const nonFinite = update(attrs, this.firstMoments, this.secondMoments);
    if (nonFinite === 0) this.step += 1;
    return nonFinite;
  }

  /** `updateInPlace` with the gradients on the backend. */
  private updateInPlaceFrom(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale: number,
  ): number | undefined {
    return this.updateInPlace(variables, learningRate, gradientScale, (attrs, m, v) =>
      adamWInPlace(variables, gradients, m, v, attrs, this.bounds),
    );
  }

  private ensureMoments(variables: tf.Variable[]): void {
    if (this.firstMoments.length > 0) return;
    // Variables survive tidy; the zero tensors they were made from do not.
    this.firstMoments = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
    this.secondMoments = tf.tidy(() => variables.map((v) => tf.variable(tf.zerosLike(v), false)));
  }

  /** Step t + 1's settings. */
  private stepAttrs(learningRate: number, gradientScale: number): AdamWStepAttrs {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const t = this.step + 1;
    return {
      learningRate,
      weightDecay,
      beta1,
      beta2,
      epsilon,
      correction1: 1 - Math.pow(beta1, t),
      correction2: 1 - Math.pow(beta2, t),
      gradientScale,
    };
  }

  private commit(
    variables: tf.Variable[],
    next: { params: tf.Tensor[]; m: tf.Tensor[]; v: tf.Tensor[] },
  ): void {
    variables.forEach((v, i) => {
      v.assign(next.params[i]);
      this.firstMoments[i].assign(next.m[i]);
      this.secondMoments[i].assign(next.v[i]);
    });
    this.step += 1;
  }

  async state(): Promise<OptimizerState> {
    const slots = [];
    for (const [kind, list] of [
      ["m", this.firstMoments],
      ["v", this.secondMoments],
    ] as const) {
      for (let i = 0; i < list.length; i++) {
        const values = Float32Array.from(await list[i].data());
        slots.push({ name: `${i}/${kind}`, shape: list[i].shape, values });
      }
    }
    return { iterations: this.step, slots };
  }

  setState(state: OptimizerState): void {
    const first = state.slots.filter((s) => s.name.endsWith("/m"));
    const second = state.slots.filter((s) => s.name.endsWith("/v"));
    if (first.length !== second.length) {
      throw new Error(
        `optimizer state has ${first.length} first and ${second.length} second moments`,
      );
    }
    this.disposeMoments();
    const restore = (slots: OptimizerState["slots"]) =>
      tf.tidy(() => slots.map((s) => tf.variable(tf.tensor(s.values, s.shape), false)));
    this.firstMoments = restore(first);
    this.secondMoments = restore(second);
    this.step = state.iterations;
  }

  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments]);
    this.firstMoments = [];
    this.secondMoments = [];
  }
}
