/**
 * The denoising loss of a model per subgroup on labelled examples — FairDiffusion's "equal
 * treatment" signal measured on held-out data rather than on a training batch. Each example is
 * noised `draws` times with timesteps and noise drawn from (seed, example, draw), so two models
 * evaluated with the same seed see exactly the same noisy inputs (a paired comparison).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SensitiveAttribute } from "../data/subgroups";
import { perSampleDenoisingLoss } from "../pipeline/denoiserReplica";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { encodeLatents } from "../pipeline/trainDenoiser";
import { NoiseSchedule } from "../schedulers/noiseSchedule";
import { createRng } from "../util/random";
import type { LabelledTrainingExample } from "./fairBayesianPerturbation";
import {
  groupIndices,
  groupLossGap,
  groupMeanLosses,
  perturbationLayout,
} from "./perturbationWeights";

export interface GroupDenoisingLossOptions {
  seed: number;
  attributes: readonly SensitiveAttribute[];
  /** Noisy versions of each example (default 4). */
  draws?: number;
  /** Examples per network call (default 64). */
  batchSize?: number;
}

export interface AttributeDenoisingLoss {
  attribute: string;
  groups: string[];
  /** Mean loss per group (NaN where the group has no example). */
  mean: number[];
  /** Noisy samples behind each mean. */
  n: number[];
  /** Largest minus smallest group mean. */
  gap: number;
}

export interface GroupDenoisingLoss {
  overall: number;
  n: number;
  byAttribute: AttributeDenoisingLoss[];
}

export async function groupDenoisingLoss(
  model: LatentDiffusionModel,
  examples: readonly LabelledTrainingExample[],
  options: GroupDenoisingLossOptions,
): Promise<GroupDenoisingLoss> {
  if (examples.length === 0) throw new Error("no examples to measure the denoising loss on");
  const draws = options.draws ?? 4;
  if (!Number.isInteger(draws) || draws < 1) {
    throw new Error(`draws must be a positive integer, got ${draws}`);
  }
  const layout = perturbationLayout(options.attributes);
  const exampleGroups = groupIndices(
    layout,
    examples.map((e) => e.attributes),
  );
  const { unet, noise: noiseConfig } = model.config;
  const schedule = new NoiseSchedule(noiseConfig);
  const per = unet.sampleSize * unet.sampleSize * unet.inChannels;
  const latents = await encodeLatents(model, [...examples]);
  const total = examples.length * draws;
  const losses = new Float32Array(total);
  const batchSize = options.batchSize ?? 64;
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const batchLatents = new Float32Array(count * per);
    const noise = new Float32Array(count * per);
    const timesteps = new Float32Array(count);
    const signal = new Float32Array(count);
    const spread = new Float32Array(count);
    const prompts: string[] = [];
    for (let k = 0; k < count; k++) {
      const sample = start + k;
      const index = Math.floor(sample / draws);
      const rng = createRng(options.seed).fork(`${index}:${sample % draws}`);
      batchLatents.set(latents.subarray(index * per, (index + 1) * per), k * per);
      const t = rng.int(schedule.trainTimesteps);
      timesteps[k] = t;
      signal[k] = Math.sqrt(schedule.alphaBar(t));
      spread[k] = Math.sqrt(1 - schedule.alphaBar(t));
      for (let j = 0; j < per; j++) noise[k * per + j] = rng.normal();
      prompts.push(examples[index].prompt);
    }
    const encoded = model.tokenizer.encode(prompts, { overflow: "truncate" });
    const shape = [count, unet.sampleSize, unet.sampleSize, unet.inChannels];
    const lossTensor = tf.tidy(() =>
      perSampleDenoisingLoss(model.textEncoder, model.unet, noiseConfig.predictionType, {
        latents: tf.tensor(batchLatents, shape),
        noise: tf.tensor(noise, shape),
        timesteps: tf.tensor1d(timesteps),
        signal: tf.tensor1d(signal),
        spread: tf.tensor1d(spread),
        tokenIds: tf.tensor2d(encoded.ids, [count, encoded.maxLength], "int32"),
        tokenMask: tf.tensor2d(encoded.mask, [count, encoded.maxLength]),
      }),
    );
    losses.set(await lossTensor.data(), start);
    lossTensor.dispose();
  }
  const groups = exampleGroups.map((g) =>
    Int32Array.from({ length: total }, (_, s) => g[Math.floor(s / draws)]),
  );
  const means = groupMeanLosses(layout, losses, groups);
  return {
    overall: losses.reduce((s, v) => s + v, 0) / total,
    n: total,
    byAttribute: layout.attributes.map((a, k) => ({
      attribute: a.name,
      groups: [...a.groups],
      mean: means[k],
      n: a.groups.map((_, g) => groups[k].reduce((c, v) => c + (v === g ? 1 : 0), 0)),
      gap: groupLossGap(means[k]),
    })),
  };
}
