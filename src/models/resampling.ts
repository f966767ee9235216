/** Halving (strided 3×3 conv) and doubling (nearest-neighbour ×2 then 3×3 conv) of a feature map. */
import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../util/random";
import { Conv2d } from "./conv2d";
import { Module } from "./module";

/**
 * Nearest-neighbour ×2 upsampling by broadcasting each pixel over a 2×2 block; its gradient is
 * the broadcast's sum, exact on every backend. (tf.image.resizeNearestNeighbor is not used: in
 * tfjs 4.22 the cpu backend's ResizeNearestNeighborGrad gives wrong gradients for batch > 1 —
 * checked by hand against a 2×2→4×4 case — so cpu and wasm disagree on it.)
 */
export function nearestUpsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  return tf.tidy(() => {
    const blocks = tf.add(
      x.reshape([batch * height, 1, width, 1, channels]),
      tf.zeros([1, 2, 1, 2, 1]),
    );
    return blocks.reshape([batch, height * 2, width * 2, channels]) as tf.Tensor4D;
  });
}

export class Downsample extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, rng: Rng) {
    super();
    this.conv = this.addModule("conv", new Conv2d(channels, channels, rng, { stride: 2 }));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(x);
  }
}

export class Upsample extends Module {
  readonly conv: Conv2d;

  constructor(channels: number, rng: Rng) {
    super();
    this.conv = this.addModule("conv", new Conv2d(channels, channels, rng));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(nearestUpsample2x(x));
  }
}
