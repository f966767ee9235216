/** KL autoencoder shapes, the KL term's closed form, seeded sampling, PSNR. */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { KLAutoencoder, klDivergence } from "../../src/models/autoencoder";
import { psnr, psnrByGroup } from "../../src/models/psnr";
import { createRng } from "../../src/util/random";
import { maxAbsDifference, seededTensor } from "./tinyModels";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("KLAutoencoder", () => {
  test("32×32×1 images ↔ 8×8×4 latents with the default config", () => {
    const autoencoder = new KLAutoencoder({}, 1);
    expect(autoencoder.latentSize).toBe(8);
    const images = tf.tanh(seededTensor([2, 32, 32, 1], 1)) as tf.Tensor4D;
    const { mean, logVariance } = autoencoder.encode(images);
    expect(mean.shape).toEqual([2, 8, 8, 4]);
    expect(logVariance.shape).toEqual([2, 8, 8, 4]);
    expect(autoencoder.decode(mean).shape).toEqual([2, 32, 32, 1]);
    expect(autoencoder.parameterCount()).toBeLessThan(1e6);
    autoencoder.dispose();
  });

  test("scaled latents round-trip through the scaling factor", () => {
    const autoencoder = new KLAutoencoder(
      { blockChannels: [8, 8], normGroups: 4, imageSize: 8, scalingFactor: 0.5 },
      2,
    );
    const images = seededTensor([1, 8, 8, 1], 2) as tf.Tensor4D;
    const latents = autoencoder.imagesToLatents(images);
    const mean = autoencoder.encode(images).mean;
    expect(maxAbsDifference(latents.dataSync(), tf.mul(mean, 0.5).dataSync())).toBeLessThan(1e-6);
    const decoded = autoencoder.latentsToImages(latents);
    expect(maxAbsDifference(decoded.dataSync(), autoencoder.decode(mean).dataSync())).toBeLessThan(
      1e-5,
    );
    autoencoder.dispose();
  });

  test("KL(N(μ, σ²) ‖ N(0, 1)) matches its closed form", () => {
    const mean = tf.tensor4d([0, 1, -2, 0.5], [2, 1, 1, 2]);
    const logVariance = tf.tensor4d([0, 0, Math.log(4), Math.log(0.25)], [2, 1, 1, 2]);
    const kl = klDivergence({ mean, logVariance }).dataSync();
    // ½(μ² + σ² − 1 − log σ²) summed per sample.
    const expected = [
      0.5 * (0 + 0) + 0.5 * 1,
      0.5 * (4 + 4 - 1 - Math.log(4)) + 0.5 * (0.25 + 0.25 - 1 - Math.log(0.25)),
    ];
    expect(kl[0]).toBeCloseTo(expected[0], 5);
    expect(kl[1]).toBeCloseTo(expected[1], 5);
  });

  test("latent sampling is seeded and has the encoder's spread", () => {
    const mean = tf.zeros([1, 16, 16, 4]) as tf.Tensor4D;
    const logVariance = tf.fill([1, 16, 16, 4], Math.log(0.25)) as tf.Tensor4D;
    const autoencoder = new KLAutoencoder({ blockChannels: [8], normGroups: 4, imageSize: 4 }, 0);
    const a = autoencoder.sampleLatent({ mean, logVariance }, createRng(1)).dataSync();
    const b = autoencoder.sampleLatent({ mean, logVariance }, createRng(1)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const std = Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0) / a.length);
    expect(std).toBeGreaterThan(0.45);
    expect(std).toBeLessThan(0.55);
    autoencoder.dispose();
  });

  test("gradients of reconstruction + KL reach every autoencoder parameter on wasm", () => {
    const autoencoder = new KLAutoencoder(
      { blockChannels: [8, 16], normGroups: 4, imageSize: 8 },
      3,
    );
    const images = tf.tanh(seededTensor([2, 8, 8, 1], 4)) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const zeroGrads = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const distribution = autoencoder.encode(images);
        const reconstruction = autoencoder.decode(
          autoencoder.sampleLatent(distribution, createRng(5)),
        );
        const recon = tf.mean(tf.abs(tf.sub(reconstruction, images)));
        return tf.add(recon, tf.mul(tf.mean(klDivergence(distribution)), 1e-3)) as tf.Scalar;
      });
      return Object.values(grads).filter((g) => g.dataSync().every((v) => v === 0)).length;
    });
    expect(zeroGrads).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    autoencoder.dispose();
  });
});

describe("psnr", () => {
  test("per image 10·log10(range²/MSE); grouped means", async () => {
    const reference = tf.zeros([3, 2, 2, 1]) as tf.Tensor4D;
    const reconstruction = tf.tensor4d(
      [0.1, 0.1, 0.1, 0.1, 0.2, -0.2, 0.2, -0.2, 0, 0, 0, 0],
      [3, 2, 2, 1],
    );
    const values = await psnr(reference, reconstruction);
    expect(values[0]).toBeCloseTo(10 * Math.log10(4 / 0.01), 4);
    expect(values[1]).toBeCloseTo(10 * Math.log10(4 / 0.04), 4);
    expect(values[2]).toBe(Infinity);
    expect((await psnr(reference, reconstruction, 1))[0]).toBeCloseTo(20, 4);
    const byGroup = psnrByGroup([30, 20, 40], ["female", "male", "female"]);
    expect(byGroup).toEqual({ female: { mean: 35, count: 2 }, male: { mean: 20, count: 1 } });
    await expect(psnr(reference, tf.zeros([3, 2, 2, 2]) as tf.Tensor4D)).rejects.toThrow(
      /equal shapes/,
    );
  });
});
