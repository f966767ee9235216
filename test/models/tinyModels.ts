/** Test helper: tiny configurations of fairdiff's networks, fast on any backend. */
import * as tf from "@tensorflow/tfjs-core";
import type { UNetConfig } from "../../src/models/unet";
import { createRng } from "../../src/util/random";

export const TINY_UNET: Partial<UNetConfig> = {
  inChannels: 4,
  outChannels: 4,
  sampleSize: 4,
  blockChannels: [8, 16],
  layersPerBlock: 1,
  attentionLevels: [true, true],
  heads: 2,
  contextDim: 8,
  normGroups: 4,
  selfAttention: true,
  // Non-zero residual outputs, so every parameter gets a gradient and the text matters.
  zeroInitResiduals: false,
};

export const PROMPTS = [
  "Chest radiograph of a male patient with pleural effusion",
  "Chest radiograph of a female patient with no finding",
  "Chest radiograph of a female patient with pleural effusion",
  "Chest radiograph of a male patient with no finding",
];

export function seededTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.normal() * scale),
    shape,
  );
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
