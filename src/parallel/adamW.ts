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
  type AdamWPass,
} from "../backend/nativeKernels/nativeAdamWInPlace";
import "../backend/fusedKernels/registerFusedKernels";
import { allFinite, NonFiniteStepError } from "./nonFiniteStep";
import {
  commitChecked,
  type OptimizerState,
  type PreparedUpdate,
  type StepOptimizer,
} from "./optimizerSpec";

export interface AdamWOptions {
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * A native AdamW call in place (nativeAdamWInPlace.ts) running `pass`: how many new weights
 * would not be finite (0 once written), or undefined where it cannot run here.
 */
type InPlaceCall = (
  attrs: AdamWStepAttrs,
  m: tf.Variable[],
  v: tf.Variable[],
  pass: AdamWPass,
  published?: Float32Array,
) => number | undefined;

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
    if (this.inPlace(variables, learningRate, 1, this.fromTensors(variables, gradients)) === 0) {
      return;
    }
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
    // In place, one native call: it checks, then writes only if every new weight is finite.
    const call = this.fromTensors(variables, gradients);
    const nonFinite = this.inPlace(variables, learningRate, gradientScale, call);
    if (nonFinite === 0) return;
    if (nonFinite !== undefined) throw new NonFiniteStepError("update", NaN, learningRate);
    const prepared = await this.preparedByKernel(variables, gradients, learningRate, gradientScale);
    commitChecked(prepared, learningRate);
  }

  /** The checked update, not yet written (in place where it will be written in place). */
  async prepare(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale = 1,
  ): Promise<PreparedUpdate> {
    const call = this.fromTensors(variables, gradients);
    return (
      this.preparedInPlace(variables, learningRate, gradientScale, call) ??
      this.preparedByKernel(variables, gradients, learningRate, gradientScale)
    );
  }

  /** The update by the fused kernel (fusedAdamW.ts): new tensors, assigned at commit. */
  private async preparedByKernel(
    variables: tf.Variable[],
    gradients: tf.Tensor[],
    learningRate: number,
    gradientScale: number,
  ): Promise<PreparedUpdate> {
    const next = tf.tidy(() => this.nextValues(variables, gradients, learningRate, gradientScale));
    const free = () =>
      tf.dispose([
        ...next.params,
        ...next.m,
        ...next.v,
        ...(next.nonFinite ? [next.nonFinite] : []),
      ]);
    let finite: boolean;
    try {
      finite = next.nonFinite
        ? (await next.nonFinite.data())[0] === 0
        : await allFinite(next.params);
    } catch (error) {
      free();
      throw error;
    }
    const commit = () => {
      this.commit(variables, next);
      return false;
    };
    return { nonFinite: finite ? 0 : 1, commit, dispose: free };
  }

  /**
   * `prepare` with the gradient in host memory (one array per variable: data-parallel replicas'
   * summed shares), read in place by the native update: undefined where that cannot run here
   * (the caller then uploads it for `prepare`).
   */
  prepareFromHost(
    variables: tf.Variable[],
    gradients: Float32Array[],
    learningRate: number,
    gradientScale = 1,
  ): PreparedUpdate | undefined {
    const call: InPlaceCall = (attrs, m, v, pass, published) =>
      adamWInPlaceFromHost(variables, gradients, m, v, attrs, this.bounds, pass, published);
    return this.preparedInPlace(variables, learningRate, gradientScale, call, true);
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

  private fromTensors(variables: tf.Variable[], gradients: tf.Tensor[]): InPlaceCall {
    return (attrs, m, v, pass) =>
      adamWInPlace(variables, gradients, m, v, attrs, this.bounds, pass);
  }

  /**
   * The in-place update counted now and written at commit (nothing it reads changes between);
   * `publishes`: `call` also writes the new weights where commit is asked to publish them.
   */
  private preparedInPlace(
    variables: tf.Variable[],
    learningRate: number,
    gradientScale: number,
    call: InPlaceCall,
    publishes = false,
  ): PreparedUpdate | undefined {
    const nonFinite = this.inPlace(variables, learningRate, gradientScale, call, "count");
    if (nonFinite === undefined) return undefined;
    return {
      nonFinite,
      commit: (publishInto) => {
        if (nonFinite !== 0) throw new Error("AdamW: an update with non-finite weights committed");
        const into = publishes ? publishInto : undefined;
        const pass = "writeCounted";
        if (this.inPlace(variables, learningRate, gradientScale, call, pass, into) !== 0) {
          throw new Error("AdamW: a prepared in-place update could no longer be written in place");
        }
        return into !== undefined;
      },
      dispose: () => {},
    };
  }

  /**
   * `call` given step t + 1's settings and the moments (nativeAdamWInPlace.ts): how many new
   * weights would not be finite, or undefined where it cannot run here. Where a pass that writes
   * wrote (none non-finite), the step is counted.
   */
  private inPlace(
    variables: tf.Variable[],
    learningRate: number,
    gradientScale: number,
    call: InPlaceCall,
    pass: AdamWPass = "countAndWrite",
    published?: Float32Array,
  ): number | undefined {
    this.ensureMoments(variables);
    const attrs = this.stepAttrs(learningRate, gradientScale);
    const nonFinite = call(attrs, this.firstMoments, this.secondMoments, pass, published);
    if (pass !== "count" && nonFinite === 0) this.step += 1;
    return nonFinite;
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
