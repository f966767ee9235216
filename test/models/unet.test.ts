/** UNet shapes, conditioning, masking, seeding, weight round trips and memory hygiene (wasm). */
import { weightsSync } from "../helpers/weights";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { DEFAULT_UNET_CONFIG, UNet } from "../../src/models/unet";
import { TINY_UNET, maxAbsDifference, seededTensor } from "./tinyModels";

beforeAll(async () => {
  await useBackend("wasm");
});

function inputs(batch = 2, tokens = 5) {
  return {
    x: seededTensor([batch, 4, 4, 4], 1) as tf.Tensor4D,
    context: seededTensor([batch, tokens, 8], 2) as tf.Tensor3D,
    mask: tf.tensor2d(
      Array.from({ length: batch * tokens }, (_, i) => (i % tokens < 3 ? 1 : 0)),
      [batch, tokens],
    ),
  };
}

describe("UNet", () => {
  test("maps [B, H, W, 4] latents to the same shape", () => {
    const unet = new UNet(TINY_UNET, 1);
    const { x, context, mask } = inputs();
    const out = unet.apply(x, [10, 900], context, mask);
    expect(out.shape).toEqual([2, 4, 4, 4]);
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    unet.dispose();
  });

  test("the output depends on the timestep and on the text, not on padded tokens", () => {
    const unet = new UNet(TINY_UNET, 1);
    const { x, context, mask } = inputs();
    const base = unet.apply(x, 100, context, mask).dataSync();
    expect(maxAbsDifference(unet.apply(x, 700, context, mask).dataSync(), base)).toBeGreaterThan(
      1e-4,
    );
    const otherText = seededTensor(context.shape, 3) as tf.Tensor3D;
    expect(maxAbsDifference(unet.apply(x, 100, otherText, mask).dataSync(), base)).toBeGreaterThan(
      1e-4,
    );
    // Change only the padded positions (mask 0): nothing may change.
    const keep = mask.reshape([2, 5, 1]);
    const paddedChanged = tf.add(
      tf.mul(context, keep),
      tf.mul(otherText, tf.sub(1, keep)),
    ) as tf.Tensor3D;
    expect(maxAbsDifference(unet.apply(x, 100, paddedChanged, mask).dataSync(), base)).toBeLessThan(
      1e-5,
    );
    unet.dispose();
  });

  test("same seed, same weights; another seed, other weights", () => {
    const a = new UNet(TINY_UNET, 5);
    const b = new UNet(TINY_UNET, 5);
    const c = new UNet(TINY_UNET, 6);
    const wa = weightsSync(a);
    const wb = weightsSync(b);
    const wc = weightsSync(c);
    for (const name of Object.keys(wa)) expect(maxAbsDifference(wb[name], wa[name])).toBe(0);
    const q = "down1_attn0.block.crossAttention.q.weight";
    expect(maxAbsDifference(wc[q], wa[q])).toBeGreaterThan(0.01);
    [a, b, c].forEach((m) => m.dispose());
  });

  test("weights round-trip through getWeights/setWeights and give the same output", async () => {
    const source = new UNet(TINY_UNET, 1);
    const target = new UNet(TINY_UNET, 2);
    const { x, context, mask } = inputs();
    target.setWeights(await source.getWeights());
    expect(Array.from(target.apply(x, 50, context, mask).dataSync())).toEqual(
      Array.from(source.apply(x, 50, context, mask).dataSync()),
    );
    const weights = weightsSync(source);
    const { ["convOut.bias"]: _dropped, ...missingOne } = weights;
    expect(() => target.setWeights(missingOne)).toThrow(/missing \[convOut.bias\]/);
    expect(() => target.setWeights({ ...weights, extra: new Float32Array(1) })).toThrow(
      /unexpected \[extra\]/,
    );
    expect(() => target.setWeights({ ...weights, "convOut.bias": new Float32Array(3) })).toThrow(
      /convOut.bias: 3 values/,
    );
    target.setWeights({ "convOut.bias": new Float32Array(4) }, { strict: false });
    expect(Array.from(target.convOut.bias.dataSync())).toEqual([0, 0, 0, 0]);
    source.dispose();
    target.dispose();
  });

  test("tensor count stays flat over repeated forward and backward steps; dispose frees all", () => {
    const before = tf.memory().numTensors;
    const unet = new UNet(TINY_UNET, 1);
    const { x, context, mask } = inputs();
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.square(unet.apply(x, 300, context, mask))) as tf.Scalar,
        );
        return [value, ...Object.values(grads)].map((t) => t.dataSync()[0]);
      });
    step();
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      step();
      tf.tidy(() => unet.apply(x, 10, context, mask).dataSync());
    }
    expect(tf.memory().numTensors).toBe(afterFirst);
    unet.dispose();
    [x, context, mask].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  test("Adam on wasm overfits one batch: the denoising loss falls", () => {
    const unet = new UNet(TINY_UNET, 1);
    const { x, context, mask } = inputs();
    const target = seededTensor([2, 4, 4, 4], 4);
    const optimizer = tf.train.adam(1e-2);
    const loss = () =>
      tf.mean(tf.square(tf.sub(unet.apply(x, [100, 800], context, mask), target))) as tf.Scalar;
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const value = optimizer.minimize(loss, true, unet.parameters()) as tf.Scalar;
      losses.push(value.dataSync()[0]);
      value.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
    optimizer.dispose();
    unet.dispose();
  });

  test("the default config is a 1–2 M parameter model for 8×8×4 latents", () => {
    const unet = new UNet({}, 0);
    expect(unet.config).toEqual(DEFAULT_UNET_CONFIG);
    expect(unet.parameterCount()).toBeGreaterThan(1e6);
    expect(unet.parameterCount()).toBeLessThan(2e6);
    const out = tf.tidy(() => unet.apply(tf.zeros([1, 8, 8, 4]), 999, tf.zeros([1, 3, 64])).shape);
    expect(out).toEqual([1, 8, 8, 4]);
    unet.dispose();
  });

  test("bad configs and inputs fail with the value named", () => {
    expect(() => new UNet({ ...TINY_UNET, attentionLevels: [true] })).toThrow(
      /1 entries for 2 levels/,
    );
    expect(() => new UNet({ ...TINY_UNET, blockChannels: [8, 10] })).toThrow(/10 channels/);
    const unet = new UNet(TINY_UNET, 1);
    expect(() =>
      unet.apply(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, 1, tf.zeros([1, 2, 8]) as tf.Tensor3D),
    ).toThrow(/4 latent channels/);
    expect(() =>
      unet.apply(tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, [1, 2], tf.zeros([1, 2, 8]) as tf.Tensor3D),
    ).toThrow(/2 timesteps/);
    unet.dispose();
  });
});
