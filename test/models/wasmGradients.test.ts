/**
 * Training on wasm: tf.variableGrads of a UNet + text-encoder diffusion loss works with
 * fairdiff's wasm training kernels and matches the cpu backend's gradients.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { TransformerTextEncoder } from "../../src/models/transformerTextEncoder";
import { UNet } from "../../src/models/unet";
import { WordTokenizer } from "../../src/models/wordTokenizer";
import { PROMPTS, TINY_UNET, maxAbsDifference, seededTensor } from "./tinyModels";

interface Result {
  loss: number;
  grads: Record<string, Float32Array>;
  scale: number;
}

/** Builds the models from fixed seeds on the current backend and takes one loss gradient. */
function lossGradients(): Result {
  const tokenizer = WordTokenizer.fromPrompts(PROMPTS);
  const encoder = new TransformerTextEncoder(tokenizer, { width: 8, layers: 1, heads: 2 }, 3);
  const unet = new UNet(TINY_UNET, 4);
  const named = [
    ...unet.namedParameters().map(([n, v]) => [`unet.${n}`, v] as const),
    ...encoder.namedParameters().map(([n, v]) => [`text.${n}`, v] as const),
  ];
  const result: Result = { loss: 0, grads: {}, scale: 0 };
  tf.tidy(() => {
    const x = seededTensor([2, 4, 4, 4], 7) as tf.Tensor4D;
    const target = seededTensor([2, 4, 4, 4], 8);
    const { value, grads } = tf.variableGrads(
      () => {
        const text = encoder.encode(PROMPTS.slice(0, 2));
        const out = unet.apply(x, [5, 990], text.embeddings, text.mask);
        return tf.mean(tf.square(tf.sub(out, target))) as tf.Scalar;
      },
      named.map(([, v]) => v),
    );
    result.loss = value.dataSync()[0];
    for (const [name, v] of named) {
      result.grads[name] = Float32Array.from(grads[v.name].dataSync());
      result.scale = Math.max(result.scale, ...Array.from(result.grads[name], Math.abs));
    }
  });
  unet.dispose();
  encoder.dispose();
  return result;
}

describe("UNet + text encoder gradients on wasm", () => {
  test("match the cpu backend within 1e-4, for every parameter", async () => {
    await useBackend("cpu");
    const cpu = lossGradients();
    await useBackend("wasm");
    const wasm = lossGradients();
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
    let worst = 0;
    for (const name of Object.keys(cpu.grads)) {
      worst = Math.max(worst, maxAbsDifference(wasm.grads[name], cpu.grads[name]));
    }
    // Gradients are O(0.1) here; wasm and cpu agree to float rounding (seen: ~1e-7).
    expect(worst).toBeLessThan(1e-4);
    // Every parameter gets a gradient (text embeddings of unused words aside).
    const zero = Object.entries(cpu.grads).filter(
      ([name, g]) => !name.includes("tokenEmbedding") && g.every((v) => v === 0),
    );
    expect(zero.map(([n]) => n)).toEqual([]);
    expect(cpu.scale).toBeGreaterThan(1e-3);
  });
});
