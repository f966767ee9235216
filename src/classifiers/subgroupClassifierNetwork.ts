/**
 * The network behind a subgroup classifier: a small strided CNN trunk and a dense layer shared by
 * every task, then one linear head per task. The trunk is flattened rather than pooled: where a
 * cue sits (breast shadows low and lateral, fluid at a lung base) is part of the cue.
 * Input images in [0, 1]; output logits per head.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Conv2d } from "../models/conv2d";
import { Linear } from "../models/linear";
import { Module } from "../models/module";
import { createRng } from "../util/random";
import type { ClassificationTask } from "./classificationTask";

export interface ClassifierNetworkConfig {
  imageSize: number;
  imageChannels: number;
  /** Channels of the trunk's convolutions; every one after the first halves the resolution. */
  channels: number[];
}

export const DEFAULT_CLASSIFIER_CHANNELS = [16, 32, 64, 64];
const HIDDEN_UNITS = 64;

export class SubgroupClassifierNetwork extends Module {
  private readonly convs: Conv2d[] = [];
  private readonly heads: Linear[] = [];
  private readonly hidden: Linear;
  private readonly flatSize: number;

  constructor(
    readonly config: ClassifierNetworkConfig,
    readonly tasks: ClassificationTask[],
    seed: number,
  ) {
    super();
    const rng = createRng(seed);
    let inC = config.imageChannels;
    config.channels.forEach((outC, i) => {
      const conv = new Conv2d(inC, outC, rng.fork(`conv${i}`), { stride: i === 0 ? 1 : 2 });
      this.convs.push(this.addModule(`conv${i}`, conv));
      inC = outC;
    });
    const side = config.imageSize / 2 ** (config.channels.length - 1);
    if (!Number.isInteger(side)) {
      throw new Error(
        `imageSize ${config.imageSize} does not halve ${config.channels.length - 1} times`,
      );
    }
    this.flatSize = side * side * inC;
    this.hidden = this.addModule(
      "hidden",
      new Linear(this.flatSize, HIDDEN_UNITS, rng.fork("hidden")),
    );
    tasks.forEach((task, i) => {
      this.heads.push(
        this.addModule(
          `head${i}`,
          new Linear(HIDDEN_UNITS, task.classes.length, rng.fork(`head${i}`)),
        ),
      );
    });
  }

  /** Width of the shared dense layer every head reads (the penultimate activations). */
  get featureSize(): number {
    return HIDDEN_UNITS;
  }

  /**
   * images [B, H, W, C] in [0, 1] → the shared dense layer's activations [B, featureSize] (after
   * ReLU): what every head sees, used as an image encoder for FID.
   */
  features(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = tf.sub(tf.mul(images, 2), 1) as tf.Tensor4D;
      for (const conv of this.convs) h = tf.relu(conv.apply(h));
      return tf.relu(this.hidden.apply(tf.reshape(h, [-1, this.flatSize]))) as tf.Tensor2D;
    });
  }

  /** Head `index`'s weight [featureSize, classes]: how its logits read the features. */
  headWeight(index: number): tf.Variable {
    const head = this.heads[index];
    if (!head) throw new Error(`no head ${index} (the network has ${this.heads.length})`);
    return head.weight;
  }

  /** images [B, H, W, C] in [0, 1] → one [B, classes] logit tensor per task. */
  logits(images: tf.Tensor4D): tf.Tensor2D[] {
    return tf.tidy(() => {
      const features = this.features(images);
      return this.heads.map((head) => head.apply(features) as tf.Tensor2D);
    });
  }
}
