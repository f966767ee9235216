/**
 * Gradients through the DDIM sampling chain for direct fine-tuning: the chain samples exactly what
 * generation samples; its direct coefficients C_k = ∂z_0/∂ε_k match the closed form; the
 * checkpointed (recompute-per-step) gradients equal one tape through the whole chain, in both
 * modes and for UNet variables too; and the exact gradient matches a finite difference.
 * (Memory and norms as the steps grow: chainGradientScaling.test.ts.)
 */
import * as tf from "@tensorflow/tfjs-core";
import { setKernelReplay } from "../../src/backend/kernelReplay";
import { addLoraAdapters } from "../../src/models/lora";
import {
  DdimSamplingChain,
  disposeChainGradients,
  disposeTrace,
  type ChainDenoiser,
  type ChainGradientMode,
} from "../../src/methods/samplingChainGradient";
import { denoiseLatents } from "../../src/pipeline/textToImage";
import { NoiseSchedule } from "../../src/schedulers/noiseSchedule";
import { createRng } from "../../src/util/random";
import { PROMPTS } from "../models/tinyModels";
import { chainTestBed } from "./fixtures";

const bed = chainTestBed();

function relativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = Math.max(tf.max(tf.abs(b)).dataSync()[0], 1e-12);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / scale;
  });
}

test("the chain samples what generation samples (DDIM, guidance)", async () => {
  const s = bed.setup(2);
  const chain = await DdimSamplingChain.create(6, bed.model.config.noise);
  const mine = chain.sample(s.denoiser, s.start, s.conditioning);
  const reference = denoiseLatents(bed.model, PROMPTS.slice(0, 2), s.start, {
    steps: 6,
    guidanceScale: 3,
  });
  expect(relativeDifference(mine, reference)).toBeLessThan(1e-5);
  tf.dispose([mine, reference]);
  s.dispose();
});

test("direct coefficients match the closed form; adjusted ones share one magnitude", async () => {
  const chain = await DdimSamplingChain.create(8, bed.model.config.noise);
  const schedule = new NoiseSchedule(bed.model.config.noise);
  // DDIM (η = 0) ending at ᾱ = 1: z_0 = Σ_k (ρ(t_{k+1}) − ρ(t_k))·ε_k + …, ρ = √(1−ᾱ)/√ᾱ.
  const rho = (t: number) =>
    t < 0 ? 0 : Math.sqrt(1 - schedule.alphaBar(t)) / Math.sqrt(schedule.alphaBar(t));
  chain.timesteps.forEach((t, k) => {
    const next = k + 1 < chain.steps ? chain.timesteps[k + 1] : -1;
    expect(chain.directCoefficients[k]).toBeCloseTo(rho(next) - rho(t), 4);
  });
  const magnitudes = Array.from(chain.directCoefficients, Math.abs);
  const geometricMean = Math.exp(magnitudes.reduce((s, m) => s + Math.log(m), 0) / chain.steps);
  chain.adjustedCoefficients.forEach((c, k) => {
    expect(Math.abs(c)).toBeCloseTo(geometricMean, 6);
    expect(Math.sign(c)).toBe(Math.sign(chain.directCoefficients[k]));
  });
  // The noisiest step's ε weighs far more than the last one's in the exact chain.
  expect(magnitudes[0] / magnitudes[chain.steps - 1]).toBeGreaterThan(10);
  await expect(
    DdimSamplingChain.create(4, { ...bed.model.config.noise, clipSample: true }),
  ).rejects.toThrow(/not affine/);
});

test("a denoiser that ignores z: exact = Σ C_k·g, adjusted = Σ sign(C_k)·G·g", async () => {
  const chain = await DdimSamplingChain.create(5, bed.model.config.noise);
  const conditioning = tf.zeros([1, 2, 2, 1]);
  const denoiser: ChainDenoiser = {
    variables: [],
    predict: (_z, _t, c) => c.clone() as tf.Tensor4D,
  };
  const start = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
  const cotangent = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const trace = chain.run(denoiser, start, conditioning);
  for (const [mode, coefficients] of [
    ["exact", chain.directCoefficients],
    ["adjusted", chain.adjustedCoefficients],
  ] as const) {
    const gradients = chain.backward(denoiser, trace, conditioning, cotangent, mode);
    const total = coefficients.reduce((s, c) => s + c, 0);
    const expected = [1, 2, 3, 4].map((g) => g * total);
    Array.from(gradients.conditioning.dataSync()).forEach((v, i) =>
      expect(v).toBeCloseTo(expected[i], 4),
    );
    disposeChainGradients(gradients);
  }
  disposeTrace(trace);
  tf.dispose([conditioning, start, cotangent]);
});

test("adjusted gradient through one random step, re-weighted, is unbiased", async () => {
  const chain = await DdimSamplingChain.create(4, bed.model.config.noise);
  const conditioning = tf.tensor4d([0.5, -1, 2, 0.25], [1, 2, 2, 1]);
  // ε depends on the conditioning differently at every timestep.
  const denoiser: ChainDenoiser = {
    variables: [],
    predict: (_z, t, c) => tf.mul(tf.square(c), 1 + t / 100) as tf.Tensor4D,
  };
  const start = tf.ones([1, 2, 2, 1]) as tf.Tensor4D;
  const cotangent = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const trace = chain.run(denoiser, start, conditioning);
  const full = chain.backward(denoiser, trace, conditioning, cotangent, "adjusted");
  const singles = [0, 1, 2, 3].map(
    (k) =>
      chain.backward(denoiser, trace, conditioning, cotangent, "adjusted", { subset: [k] })
        .conditioning,
  );
  const average = tf.div(tf.addN(singles), 4);
  expect(relativeDifference(average, full.conditioning)).toBeLessThan(1e-5);
  // A single step alone is not the full gradient (the estimate is noisy, not exact).
  expect(relativeDifference(singles[0], full.conditioning)).toBeGreaterThan(1e-2);
  expect(() =>
    chain.backward(denoiser, trace, conditioning, cotangent, "exact", { subset: [0] }),
  ).toThrow(/only an unbiased estimate in adjusted mode/);
  expect(() =>
    chain.backward(denoiser, trace, conditioning, cotangent, "adjusted", { subset: [1, 1] }),
  ).toThrow(/distinct steps in \[0, 3\]/);
  tf.dispose([...singles, average, conditioning, start, cotangent]);
  disposeChainGradients(full);
  disposeTrace(trace);
});

/** Cross-attention LoRA adapters on the bed's UNet, up-projections drawn with `seed`. */
function liveLoraAdapters(seed: number): ReturnType<typeof addLoraAdapters> {
  const adapters = addLoraAdapters(bed.model.unet, { rank: 2, attention: ["cross"] }, createRng(5));
  // Non-zero up-projections so the adapters change the output and get a real gradient.
  const rng = createRng(seed);
  for (const { adapter } of adapters.entries) {
    adapter.up.assign(
      tf.tensor(
        Float32Array.from({ length: adapter.up.size }, () => rng.normal() * 0.1),
        adapter.up.shape,
      ),
    );
  }
  return adapters;
}

describe("checkpointed gradients equal one tape through the chain", () => {
  for (const mode of ["adjusted", "exact"] as ChainGradientMode[]) {
    test(mode, async () => {
      const adapters = liveLoraAdapters(6);
      const s = bed.setup(2, adapters.parameters());
      const chain = await DdimSamplingChain.create(5, bed.model.config.noise);
      const trace = chain.run(s.denoiser, s.start, s.conditioning);
      const checkpointed = chain.backward(s.denoiser, trace, s.conditioning, s.cotangent, mode);
      const taped = chain.tapedGradients(
        s.denoiser,
        s.start,
        s.conditioning,
        (z0) => tf.sum(tf.mul(z0, s.cotangent)) as tf.Scalar,
        mode,
      );
      const pairs: [tf.Tensor, tf.Tensor][] = [
        [checkpointed.conditioning, taped.conditioning],
        ...checkpointed.variables.map((g, i) => [g, taped.variables[i]] as [tf.Tensor, tf.Tensor]),
      ];
      expect(tf.norm(taped.conditioning).dataSync()[0]).toBeGreaterThan(1e-4);
      for (const [a, b] of pairs) expect(relativeDifference(a, b)).toBeLessThan(1e-4);
      disposeChainGradients(checkpointed);
      disposeChainGradients(taped);
      disposeTrace(trace);
      s.dispose();
      adapters.remove();
    });
  }
});

test("the chain's replayed steps give the eager chain's numbers exactly, with far fewer tensors", async () => {
  const adapters = liveLoraAdapters(7);
  const s = bed.setup(2, adapters.parameters());
  const chain = await DdimSamplingChain.create(6, bed.model.config.noise);
  const results: number[][][] = [];
  const made: number[] = [];
  try {
    for (const replay of [false, true]) {
      setKernelReplay(replay);
      const first = tf.scalar(0);
      const trace = chain.run(s.denoiser, s.start, s.conditioning);
      const gradients = chain.backward(s.denoiser, trace, s.conditioning, s.cotangent, "adjusted");
      const last = tf.scalar(0);
      made.push(last.id - first.id);
      const tensors = [trace.output, gradients.conditioning, ...gradients.variables];
      results.push(tensors.map((t) => Array.from(t.dataSync())));
      disposeChainGradients(gradients);
      disposeTrace(trace);
      tf.dispose([first, last]);
    }
  } finally {
    setKernelReplay(true);
    s.dispose();
    adapters.remove();
  }
  expect(results[1]).toEqual(results[0]);
  expect(made[1]).toBeLessThan(made[0] / 2);
});

test("the exact gradient matches a central finite difference along a random direction", async () => {
  const s = bed.setup(1);
  const chain = await DdimSamplingChain.create(4, bed.model.config.noise);
  const trace = chain.run(s.denoiser, s.start, s.conditioning);
  const gradients = chain.backward(s.denoiser, trace, s.conditioning, s.cotangent, "exact");
  const rng = createRng(21);
  const direction = tf.tensor(
    Float32Array.from({ length: s.conditioning.size }, () => rng.normal()),
    s.conditioning.shape,
  );
  const loss = (c: tf.Tensor) =>
    tf.tidy(() => {
      const z0 = chain.sample(s.denoiser, s.start, c);
      return tf.sum(tf.mul(z0, s.cotangent)).dataSync()[0];
    });
  const h = 1e-2;
  const plus = tf.add(s.conditioning, tf.mul(direction, h));
  const minus = tf.sub(s.conditioning, tf.mul(direction, h));
  const numeric = (loss(plus) - loss(minus)) / (2 * h);
  const analytic = tf.sum(tf.mul(gradients.conditioning, direction)).dataSync()[0];
  expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
  expect(Math.abs(numeric)).toBeGreaterThan(1e-3);
  tf.dispose([direction, plus, minus]);
  disposeChainGradients(gradients);
  disposeTrace(trace);
  s.dispose();
});
