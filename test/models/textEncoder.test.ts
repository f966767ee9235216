/** The transformer text encoder: shapes, masks, batch independence, soft prompts, gradients. */
import { weightsSync } from "../helpers/weights";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { disposeTextEmbedding, type TextEncoder } from "../../src/models/textEncoder";
import { TransformerTextEncoder } from "../../src/models/transformerTextEncoder";
import { WordTokenizer } from "../../src/models/wordTokenizer";
import { createRng } from "../../src/util/random";
import { PROMPTS, maxAbsDifference } from "./tinyModels";

beforeAll(async () => {
  await useBackend("wasm");
});

const tokenizer = WordTokenizer.fromPrompts(PROMPTS);
const config = { width: 16, layers: 2, heads: 4 };

describe("TransformerTextEncoder", () => {
  test("gives [B, maxLength, width] token embeddings and the padding mask", () => {
    const encoder: TextEncoder = new TransformerTextEncoder(tokenizer, config, 1);
    const { embeddings, mask } = encoder.encode(["male patient", ""]);
    expect(embeddings.shape).toEqual([2, tokenizer.maxLength, 16]);
    expect(encoder.sequenceLength).toBe(tokenizer.maxLength);
    expect(Array.from(mask.dataSync()).slice(0, 4)).toEqual([1, 1, 1, 0]);
    expect(Array.from(embeddings.dataSync()).every(Number.isFinite)).toBe(true);
    encoder.dispose();
  });

  test("a prompt's real tokens do not depend on its padding or on the rest of the batch", () => {
    const encoder = new TransformerTextEncoder(tokenizer, config, 1);
    const alone = encoder.encode(["female patient with pleural effusion"]);
    const batched = encoder.encode([PROMPTS[0], "female patient with pleural effusion"]);
    const realTokens = 6;
    const a = alone.embeddings.slice([0, 0, 0], [1, realTokens, 16]).dataSync();
    const b = batched.embeddings.slice([1, 0, 0], [1, realTokens, 16]).dataSync();
    expect(maxAbsDifference(a, b)).toBeLessThan(1e-5);
    encoder.dispose();
  });

  test("different prompts give different embeddings; same seed gives the same encoder", () => {
    const a = new TransformerTextEncoder(tokenizer, config, 7);
    const b = new TransformerTextEncoder(tokenizer, config, 7);
    const ea = a.encode(PROMPTS).embeddings;
    expect(Array.from(b.encode(PROMPTS).embeddings.dataSync())).toEqual(Array.from(ea.dataSync()));
    const rows = tf.unstack(ea);
    expect(maxAbsDifference(rows[0].dataSync(), rows[1].dataSync())).toBeGreaterThan(1e-3);
    a.dispose();
    b.dispose();
  });

  test("soft prompt tokens are prepended, unmasked, and trainable", () => {
    const encoder = new TransformerTextEncoder(tokenizer, config, 1);
    const soft = encoder.attachSoftPrompt(3, createRng(2));
    expect(encoder.sequenceLength).toBe(tokenizer.maxLength + 3);
    const text = encoder.encode(["male patient"]);
    expect(text.embeddings.shape).toEqual([1, tokenizer.maxLength + 3, 16]);
    expect(Array.from(text.mask.dataSync()).slice(0, 6)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(text.mask.dataSync())[6]).toBe(0);
    disposeTextEmbedding(text);
    // A weighted sum: a plain sum of a LayerNorm's outputs has zero gradient by construction.
    const weights = tf.randomUniform([1, tokenizer.maxLength + 3, 16], -1, 1, "float32", 4);
    const grads = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(encoder.encode(["male patient"]).embeddings, weights)) as tf.Scalar,
        soft.parameters(),
      );
      return Array.from(grads[soft.embeddings.name].dataSync());
    });
    weights.dispose();
    expect(grads.some((g) => Math.abs(g) > 1e-4)).toBe(true);
    expect(Object.keys(weightsSync(encoder))).toContain("softPrompt.embeddings");
    encoder.detachSoftPrompt();
    expect(encoder.sequenceLength).toBe(tokenizer.maxLength);
    encoder.dispose();
  });

  test("token-embedding gradients flow on wasm (gather → UnsortedSegmentSum)", () => {
    const encoder = new TransformerTextEncoder(tokenizer, config, 1);
    const before = tf.memory().numTensors;
    const grad = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(encoder.encode(PROMPTS).embeddings)) as tf.Scalar,
        [encoder.tokenEmbedding],
      );
      return grads[encoder.tokenEmbedding.name].arraySync() as number[][];
    });
    expect(tf.memory().numTensors).toBe(before);
    const used = new Set(Array.from(tokenizer.encode(PROMPTS).ids));
    grad.forEach((row, id) => {
      const nonzero = row.some((g) => g !== 0);
      expect(nonzero).toBe(used.has(id));
    });
    encoder.dispose();
  });
});
