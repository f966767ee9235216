/** A dense layer y = x·W + b over the last axis of any-rank input, with an optional LoRA adapter. */
import * as tf from "@tensorflow/tfjs-core";
import { fusedLinear } from "../backend/fusedKernels/fusedLinear";
import type { Rng } from "../util/random";
import { constantValues, fanInUniform } from "./initializers";
import { LoraAdapter, type LoraOptions } from "./loraAdapter";
import { affineMap, matMul } from "./matMul";
import { Module } from "./module";

export interface LinearOptions {
  bias?: boolean;
  /** Start at zero (residual branches that should begin as the identity). */
  zeroInit?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  private adapter: LoraAdapter | undefined;

  constructor(inFeatures: number, outFeatures: number, rng: Rng, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const count = inFeatures * outFeatures;
    const init = options.zeroInit ? constantValues(count, 0) : fanInUniform(count, inFeatures, rng);
    this.weight = this.addParameter("weight", init, [inFeatures, outFeatures]);
    if (options.bias ?? true) {
      const biasInit = options.zeroInit
        ? constantValues(outFeatures, 0)
        : fanInUniform(outFeatures, inFeatures, rng);
      this.bias = this.addParameter("bias", biasInit, [outFeatures]);
    }
  }

  get lora(): LoraAdapter | undefined {
    return this.adapter;
  }

  /** x·W + b over the last axis; `residual` (the output's shape) is added inside the kernel. */
  apply(x: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
    const lastAxis = x.shape[x.rank - 1];
    if (lastAxis !== this.inFeatures) {
      throw new Error(`Linear expects ${this.inFeatures} input features, got shape [${x.shape}]`);
    }
    const adapted = this.adapter !== undefined && this.adapter.enabled && !this.adapter.merged;
    // One kernel forward and one backward (backend/fusedKernels/fusedLinear.ts).
    if (!adapted) return fusedLinear(x, this.weight, this.bias, residual);
    const flat = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
    let y = this.bias ? affineMap(flat, this.weight, this.bias) : matMul(flat, this.weight);
    if (adapted) {
      y = tf.add(y, this.adapter!.apply(flat)) as tf.Tensor2D;
    }
    const out = y.reshape([...x.shape.slice(0, -1), this.outFeatures]);
    return residual ? tf.add(residual, out) : out;
  }

  attachLora(options: LoraOptions, rng: Rng): LoraAdapter {
    if (this.adapter) throw new Error("this layer already has a LoRA adapter");
    this.adapter = this.addModule(
      "lora",
      new LoraAdapter(this.inFeatures, this.outFeatures, options, rng),
    );
    return this.adapter;
  }

  /** Removes (and frees) the adapter; a merged adapter's update stays in the weight. */
  detachLora(): void {
    if (!this.adapter) throw new Error("this layer has no LoRA adapter");
    this.removeModule("lora");
    this.adapter = undefined;
  }

  mergeLora(): void {
    if (!this.adapter) throw new Error("this layer has no LoRA adapter");
    this.adapter.mergeInto(this.weight);
  }

  unmergeLora(): void {
    if (!this.adapter) throw new Error("this layer has no LoRA adapter");
    this.adapter.unmergeFrom(this.weight);
  }
}
