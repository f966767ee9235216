/**
 * The reference conv net of COMPUTE.md used to calibrate backends against PyTorch: five 3×3
 * convolutions at full resolution (16, 32, 64, 64, 26 channels, stride 1) with ReLU, global average pooling and a
 * 10-way linear head — 75,496 parameters on 32×32×1 input. bench/peers/reference_net.py is
 * the identical network in PyTorch.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng } from "../util/random";
import type { ArrayBatch, TrainableModel } from "./trainableModel";

interface ConvSpec {
  inC: number;
  outC: number;
  stride: number;
}

export const REFERENCE_CONVS: ConvSpec[] = [
  { inC: 1, outC: 16, stride: 1 },
  { inC: 16, outC: 32, stride: 1 },
  { inC: 32, outC: 64, stride: 1 },
  { inC: 64, outC: 64, stride: 1 },
  { inC: 64, outC: 26, stride: 1 },
];
export const REFERENCE_CLASSES = 10;

/** He-uniform init (PyTorch's default bound for convs is similar in scale). */
function heUniform(rng: ReturnType<typeof createRng>, count: number, fanIn: number): Float32Array {
  const bound = Math.sqrt(6 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

export function createReferenceConvNet(options: Record<string, unknown> = {}): TrainableModel {
  const seed = typeof options.seed === "number" ? options.seed : 0;
  const rng = createRng(seed);
  const variables: tf.Variable[] = [];
  const convs = REFERENCE_CONVS.map((spec) => {
    const fanIn = 9 * spec.inC;
    const w = tf.variable(
      tf.tensor4d(heUniform(rng, fanIn * spec.outC, fanIn), [3, 3, spec.inC, spec.outC]),
      true,
    );
    const b = tf.variable(tf.zeros([spec.outC]));
    variables.push(w, b);
    return { w, b, stride: spec.stride };
  });
  const lastC = REFERENCE_CONVS[REFERENCE_CONVS.length - 1].outC;
  const headW = tf.variable(
    tf.tensor2d(heUniform(rng, lastC * REFERENCE_CLASSES, lastC), [lastC, REFERENCE_CLASSES]),
  );
  const headB = tf.variable(tf.zeros([REFERENCE_CLASSES]));
  variables.push(headW, headB);

  return {
    variables,
    loss(batch) {
      let h = batch.images as tf.Tensor4D;
      for (const conv of convs) {
        h = tf.relu(
          tf.add(tf.conv2d(h, conv.w as tf.Tensor4D, conv.stride, "same"), conv.b),
        ) as tf.Tensor4D;
      }
      const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(pooled, headW as tf.Tensor2D), headB);
      const labels = tf.oneHot(batch.labels as tf.Tensor1D, REFERENCE_CLASSES);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}

export function parameterCount(model: TrainableModel): number {
  return model.variables.reduce((n, v) => n + v.size, 0);
}

/** A seeded batch for the reference net: standard-normal images and uniform labels. */
export function referenceBatch(seed: number, batch = 32, size = 32): ArrayBatch {
  const rng = createRng(seed);
  const images = new Float32Array(batch * size * size);
  for (let i = 0; i < images.length; i++) images[i] = rng.normal();
  const labels = Int32Array.from({ length: batch }, () => rng.int(REFERENCE_CLASSES));
  return {
    images: { values: images, shape: [batch, size, size, 1] },
    labels: { values: labels, shape: [batch], dtype: "int32" },
  };
}
