/** LoRA adapters: no change at init, enable/disable, merge = unmerged, weights, training scope. */
import { weightsSync } from "../helpers/weights";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { addLoraAdapters } from "../../src/models/lora";
import { TransformerTextEncoder } from "../../src/models/transformerTextEncoder";
import { UNet } from "../../src/models/unet";
import { WordTokenizer } from "../../src/models/wordTokenizer";
import { createRng } from "../../src/util/random";
import { PROMPTS, TINY_UNET, maxAbsDifference, seededTensor } from "./tinyModels";

beforeAll(async () => {
  await useBackend("wasm");
});

const x = () => seededTensor([2, 4, 4, 4], 1) as tf.Tensor4D;
const context = () => seededTensor([2, 3, 8], 2) as tf.Tensor3D;

function run(unet: UNet): Float32Array {
  return tf.tidy(() => unet.apply(x(), [10, 600], context()).dataSync() as Float32Array);
}

/** Gives every adapter's B a random value, as training would. */
function perturbUp(adapters: ReturnType<typeof addLoraAdapters>, seed: number): void {
  const rng = createRng(seed);
  for (const { adapter } of adapters.entries) {
    adapter.setWeights({
      down: weightsSync(adapter).down,
      up: Float32Array.from({ length: adapter.up.size }, () => rng.normal() * 0.1),
    });
  }
}

describe("LoRA adapters on attention projections", () => {
  test("targets the chosen attention kinds and projections", () => {
    const unet = new UNet(TINY_UNET, 1);
    const cross = addLoraAdapters(unet, { rank: 2, attention: ["cross"] }, createRng(1));
    // 5 spatial transformers (down0, down1, mid, up1×2, up0×2 → 7) × 4 projections.
    expect(cross.entries.length).toBe(7 * 4);
    expect(cross.entries.every((e) => e.path.includes("crossAttention"))).toBe(true);
    expect(() => addLoraAdapters(unet, { rank: 2, attention: ["cross"] }, createRng(1))).toThrow(
      /already has/,
    );
    const selfQ = addLoraAdapters(
      unet,
      { rank: 2, attention: ["self"], projections: ["q"] },
      createRng(2),
    );
    expect(selfQ.entries.length).toBe(7);
    unet.dispose();
  });

  test("a fresh adapter (B = 0) leaves the output unchanged; a trained one changes it", () => {
    const unet = new UNet(TINY_UNET, 1);
    const base = run(unet);
    const adapters = addLoraAdapters(
      unet,
      { rank: 4, alpha: 8, attention: ["cross"] },
      createRng(3),
    );
    expect(maxAbsDifference(run(unet), base)).toBe(0);
    perturbUp(adapters, 4);
    const adapted = run(unet);
    expect(maxAbsDifference(adapted, base)).toBeGreaterThan(1e-3);
    adapters.setEnabled(false);
    expect(maxAbsDifference(run(unet), base)).toBe(0);
    adapters.setEnabled(true);
    expect(maxAbsDifference(run(unet), adapted)).toBe(0);
    unet.dispose();
  });

  test("merging gives the unmerged output; unmerging restores the base weights", () => {
    const unet = new UNet(TINY_UNET, 1);
    const baseWeights = weightsSync(unet);
    const adapters = addLoraAdapters(
      unet,
      { rank: 4, alpha: 8, attention: ["cross"] },
      createRng(3),
    );
    perturbUp(adapters, 5);
    const unmerged = run(unet);
    adapters.merge();
    expect(maxAbsDifference(run(unet), unmerged)).toBeLessThan(1e-5);
    expect(() => adapters.setEnabled(false)).toThrow(/merged/);
    adapters.unmerge();
    const restored = weightsSync(unet);
    for (const name of Object.keys(baseWeights)) {
      expect(maxAbsDifference(restored[name], baseWeights[name])).toBeLessThan(1e-6);
    }
    adapters.remove();
    expect(Object.keys(weightsSync(unet))).toEqual(Object.keys(baseWeights));
    unet.dispose();
  });

  test("adapter weights save and load alone, under the model's own names", async () => {
    const a = new UNet(TINY_UNET, 1);
    const b = new UNet(TINY_UNET, 1);
    const la = addLoraAdapters(a, { rank: 2, attention: ["cross"] }, createRng(3));
    const lb = addLoraAdapters(b, { rank: 2, attention: ["cross"] }, createRng(9));
    perturbUp(la, 6);
    const saved = await la.getWeights();
    expect(Object.keys(saved).length).toBe(la.entries.length * 2);
    const full = weightsSync(a);
    for (const [name, values] of Object.entries(saved)) expect(full[name]).toEqual(values);
    lb.setWeights(saved);
    expect(maxAbsDifference(run(b), run(a))).toBe(0);
    expect(la.parameterCount()).toBe(lb.parameterCount());
    a.dispose();
    b.dispose();
  });

  test("training only the adapters: gradients reach them and no base weight", () => {
    const unet = new UNet(TINY_UNET, 1);
    const adapters = addLoraAdapters(unet, { rank: 2, attention: ["cross"] }, createRng(3));
    unet.setTrainable(false);
    for (const v of adapters.parameters()) v.trainable = true;
    const grads = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(unet.apply(x(), 100, context()))) as tf.Scalar,
      );
      return Object.keys(grads);
    });
    const adapterNames = new Set(adapters.parameters().map((v) => v.name));
    expect(new Set(grads)).toEqual(adapterNames);
    unet.dispose();
  });

  test("text-encoder attention can be adapted too", () => {
    const encoder = new TransformerTextEncoder(
      WordTokenizer.fromPrompts(PROMPTS),
      { width: 8, layers: 2, heads: 2 },
      1,
    );
    const before = encoder.encode(PROMPTS);
    const adapters = addLoraAdapters(encoder, { rank: 2 }, createRng(1));
    expect(adapters.entries.length).toBe(2 * 4);
    const fresh = encoder.encode(PROMPTS);
    expect(maxAbsDifference(fresh.embeddings.dataSync(), before.embeddings.dataSync())).toBe(0);
    perturbUp(adapters, 2);
    const after = encoder.encode(PROMPTS);
    expect(
      maxAbsDifference(after.embeddings.dataSync(), before.embeddings.dataSync()),
    ).toBeGreaterThan(1e-3);
    encoder.dispose();
  });
});
