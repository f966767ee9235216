/**
 * The sampler's network calls are replayed as their kernels from the second step on
 * (replayedNoisePrediction): the images are bit-identical to eager sampling — DDIM with η 0 and
 * 1, DDPM (stochastic), DPM-Solver++ (multistep) — on cpu and wasm; the replayed run makes a fraction of the engine's
 * tensors (each eager kernel output is one) and leaves none behind.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { setKernelReplay } from "../../src/backend/kernelReplay";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages } from "../../src/pipeline/textToImage";
import { TINY_CONFIG, tinyExamples } from "./tinyModel";

/** No zero-initialised output layers: the network's prediction depends on its inputs. */
const LIVE_CONFIG = { ...TINY_CONFIG, unet: { ...TINY_CONFIG.unet, zeroInitResiduals: false } };

/** Tensors the engine made while `f` ran (ids are handed out in order). */
async function tensorsMadeBy(f: () => Promise<void>): Promise<number> {
  const before = tf.scalar(0);
  await f();
  const after = tf.scalar(0);
  const made = after.id - before.id;
  tf.dispose([before, after]);
  return made;
}

afterAll(() => {
  setKernelReplay(true);
  return useBackend("wasm");
});

describe.each(["cpu", "wasm"] as const)("replayed sampling [%s]", (backend) => {
  test.each([
    ["ddim", 0],
    ["ddim", 1],
    ["ddpm", 0],
    ["dpm-solver++", 0],
  ] as const)(
    "%s, eta %d: the same images as eager sampling, far fewer tensors",
    async (scheduler, eta) => {
      await useBackend(backend);
      const examples = tinyExamples(8);
      const model = LatentDiffusionModel.create(
        examples.map((e) => e.prompt),
        LIVE_CONFIG,
        3,
      );
      const prompts = examples.slice(0, 3).map((e) => e.prompt);
      const options = { seed: 5, steps: 8, scheduler, eta, guidanceScale: 2.5 };
      const images: number[][] = [];
      const made: number[] = [];
      try {
        for (const replay of [false, true]) {
          setKernelReplay(replay);
          const live = tf.memory().numTensors;
          made.push(
            await tensorsMadeBy(async () => {
              const out = await generateImages(model, prompts, options);
              images.push(Array.from(await out.data()));
              out.dispose();
            }),
          );
          expect(tf.memory().numTensors).toBe(live);
        }
      } finally {
        setKernelReplay(true);
        model.dispose();
      }
      expect(images[1]).toEqual(images[0]);
      // One recorded step of eight; the other seven make only their outputs.
      expect(made[1]).toBeLessThan(made[0] / 2);
    },
  );
});
