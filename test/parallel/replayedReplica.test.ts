/**
 * The models that declare their training step replayable (TrainableModel.replayable: the
 * denoiser, the autoencoder) give a replica the eager step's loss and gradients exactly when the
 * step is replayed (kernelReplay.ts) — over several batches of new values, with weights updated
 * by AdamW in between, and with a loss scale (a shard's share) that changes between calls.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { setKernelReplay } from "../../src/backend/kernelReplay";
import type { ArrayBatch, TrainableModel } from "../../src/backend/trainableModel";
import { Replica } from "../../src/parallel/replica";
import { autoencoderTrainable } from "../../src/pipeline/autoencoderReplica";
import { denoisingBatches } from "../../src/pipeline/denoisingBatch";
import { denoiserTrainable } from "../../src/pipeline/denoiserReplica";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { createRng } from "../../src/util/random";
import { TINY_CONFIG, tinyExamples } from "../pipeline/tinyModel";

/** No zero-initialised output layers: every weight gets a gradient from the first step. */
const LIVE_CONFIG = { ...TINY_CONFIG, unet: { ...TINY_CONFIG.unet, zeroInitResiduals: false } };

function normal(count: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => rng.normal());
}

async function valuesOf(tensors: tf.Tensor[]): Promise<number[][]> {
  return Promise.all(tensors.map(async (t) => Array.from(await t.data())));
}

/** Loss and gradients of three steps (scales 1, 0.5, 0.25), AdamW applied after each. */
async function threeSteps(
  model: TrainableModel,
  batches: ArrayBatch[],
  replay: boolean,
): Promise<number[][][]> {
  setKernelReplay(replay);
  const replica = new Replica(model, { name: "adamw", learningRate: 1e-3, weightDecay: 0 }, false);
  const before = model.variables.map((v) => v.clone());
  const out: number[][][] = [];
  try {
    for (const [i, batch] of batches.entries()) {
      const { value, gradients } = replica.gradientsOnBackend(batch, 1 / 2 ** i);
      out.push(await valuesOf([value, ...gradients]));
      await replica.applyTensorsChecked(gradients, 1e-3);
      tf.dispose([value, ...gradients]);
    }
  } finally {
    // The next run starts from the same weights.
    model.variables.forEach((v, i) => v.assign(before[i]));
    tf.dispose(before);
    replica.dispose();
    setKernelReplay(true);
  }
  return out;
}

// wasm, the trainers' backend (replay itself is checked on cpu and WebGPU too: kernelReplay.test.ts).
describe.each(["wasm"] as const)("replayable models replay exactly [%s]", (backend) => {
  let model: LatentDiffusionModel;
  const examples = tinyExamples(8);
  beforeAll(async () => {
    await useBackend(backend);
    model = LatentDiffusionModel.create(
      examples.map((e) => e.prompt),
      LIVE_CONFIG,
      3,
    );
  });
  afterAll(() => model.dispose());

  test("the denoiser", async () => {
    const { unet } = model.config;
    const per = unet.sampleSize * unet.sampleSize * unet.inChannels;
    const trainable = denoiserTrainable(model.textEncoder, model.unet, "epsilon", false);
    expect(trainable.replayable).toBe(true);
    const batchAt = denoisingBatches(model, examples, normal(examples.length * per, 1), {
      seed: 2,
      batchSize: 4,
      promptDropout: 0.25,
      stream: "test",
    });
    const batches = [0, 1, 2].map((s) => batchAt(s).arrays);
    const eager = await threeSteps(trainable, batches, false);
    const replayed = await threeSteps(trainable, batches, true);
    expect(replayed).toEqual(eager);
    expect(eager[1][0]).not.toEqual(eager[0][0]);
  });

  test("the autoencoder", async () => {
    const trainable = autoencoderTrainable(model.autoencoder, 1e-3, false);
    expect(trainable.replayable).toBe(true);
    const { imageSize, imageChannels } = model.config;
    const latent = model.autoencoder.latentSize;
    const latentChannels = model.config.autoencoder.latentChannels;
    const batches = [0, 1, 2].map((s) => ({
      images: {
        values: normal(2 * imageSize * imageSize * imageChannels, 10 + s).map((v) => Math.tanh(v)),
        shape: [2, imageSize, imageSize, imageChannels],
      },
      eps: {
        values: normal(2 * latent * latent * latentChannels, 20 + s),
        shape: [2, latent, latent, latentChannels],
      },
    }));
    const eager = await threeSteps(trainable, batches, false);
    const replayed = await threeSteps(trainable, batches, true);
    expect(replayed).toEqual(eager);
  });
});
