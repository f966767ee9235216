/**
 * A LoRA adapter (Hu et al. 2021) for one linear map W: the update ΔW = (α/r)·A·B with
 * A ∈ ℝ^{in×r} random and B ∈ ℝ^{r×out} zero, so an adapter fresh from `attach` changes nothing.
 * It can be switched off, or merged into W for inference at no extra cost (and unmerged).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { constantValues, fanInUniform } from "./initializers";
import { matMul } from "./matMul";
import { Module } from "./module";

export interface LoraOptions {
  rank: number;
  /** Scale numerator: ΔW = (alpha / rank)·A·B. Defaults to rank (scale 1). */
  alpha?: number;
}

export class LoraAdapter extends Module {
  readonly rank: number;
  readonly alpha: number;
  readonly down: tf.Variable;
  readonly up: tf.Variable;
  /** Whether the update is applied in the forward pass (ignored while merged). */
  enabled = true;
  private mergedInto = false;

  constructor(inFeatures: number, outFeatures: number, options: LoraOptions, rng: Rng) {
    super();
    const { rank, alpha = rank } = options;
    if (!Number.isInteger(rank) || rank < 1)
      throw new Error(`LoRA rank must be a positive integer, got ${rank}`);
    if (!(alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${alpha}`);
    this.rank = rank;
    this.alpha = alpha;
    this.down = this.addParameter("down", fanInUniform(inFeatures * rank, inFeatures, rng), [
      inFeatures,
      rank,
    ]);
    this.up = this.addParameter("up", constantValues(rank * outFeatures, 0), [rank, outFeatures]);
  }

  get scale(): number {
    return this.alpha / this.rank;
  }

  get merged(): boolean {
    return this.mergedInto;
  }

  /** The low-rank update ΔW = scale·A·B, shaped like W. */
  delta(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(matMul(this.down as tf.Tensor2D, this.up), this.scale));
  }

  /** x·ΔW computed as (x·A)·B — cheap for small rank. x is 2-D [n, in]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(matMul(matMul(x, this.down), this.up), this.scale);
  }

  /** Folds ΔW into `weight` (W ← W + ΔW); the adapter then stays out of the forward pass. */
  mergeInto(weight: tf.Variable): void {
    if (this.mergedInto) throw new Error("LoRA adapter is already merged");
    if (!this.enabled) throw new Error("cannot merge a disabled LoRA adapter; enable it first");
    tf.tidy(() => weight.assign(tf.add(weight, this.delta())));
    this.mergedInto = true;
  }

  /** Takes ΔW back out of `weight` (W ← W − ΔW), e.g. before further training. */
  unmergeFrom(weight: tf.Variable): void {
    if (!this.mergedInto) throw new Error("LoRA adapter is not merged");
    tf.tidy(() => weight.assign(tf.sub(weight, this.delta())));
    this.mergedInto = false;
  }
}
