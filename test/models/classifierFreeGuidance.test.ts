import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  NULL_PROMPT,
  dropPrompts,
  guidanceBatch,
  guidedNoise,
  guideStackedOutput,
  nullPromptEmbedding,
} from "../../src/models/classifierFreeGuidance";
import { TransformerTextEncoder } from "../../src/models/transformerTextEncoder";
import { WordTokenizer } from "../../src/models/wordTokenizer";
import { createRng } from "../../src/util/random";
import { PROMPTS, maxAbsDifference } from "./tinyModels";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("classifier-free guidance", () => {
  test("guidedNoise = uncond + s·(cond − uncond); s = 1 is the conditional output", () => {
    const uncond = tf.tensor1d([1, 2, 3]);
    const cond = tf.tensor1d([2, 2, 0]);
    expect(Array.from(guidedNoise(uncond, cond, 7.5).dataSync())).toEqual([8.5, 2, -19.5]);
    expect(Array.from(guidedNoise(uncond, cond, 1).dataSync())).toEqual([2, 2, 0]);
    expect(Array.from(guidedNoise(uncond, cond, 0).dataSync())).toEqual([1, 2, 3]);
    expect(() => guidedNoise(uncond, cond, NaN)).toThrow(/finite/);
  });

  test("null prompt embedding, stacked batch, and split of a stacked output", () => {
    const encoder = new TransformerTextEncoder(
      WordTokenizer.fromPrompts(PROMPTS),
      { width: 8, layers: 1, heads: 2 },
      1,
    );
    const cond = encoder.encode(PROMPTS.slice(0, 2));
    const uncond = nullPromptEmbedding(encoder, 2);
    expect(Array.from(uncond.mask.sum(1).dataSync())).toEqual([1, 1]);
    const stacked = guidanceBatch(cond, uncond);
    expect(stacked.embeddings.shape).toEqual([4, encoder.sequenceLength, 8]);
    expect(
      maxAbsDifference(stacked.embeddings.slice([2], [2]).dataSync(), cond.embeddings.dataSync()),
    ).toBe(0);
    const output = tf.concat([tf.zeros([2, 3]), tf.ones([2, 3])]);
    expect(Array.from(guideStackedOutput(output, 3).dataSync())).toEqual(new Array(6).fill(3));
    encoder.dispose();
  });

  test("prompt dropout replaces about p of the prompts with the null prompt, reproducibly", () => {
    const prompts = new Array<string>(4000).fill("chest radiograph");
    const dropped = dropPrompts(prompts, 0.1, createRng(1));
    const rate = dropped.filter((p) => p === NULL_PROMPT).length / prompts.length;
    expect(Math.abs(rate - 0.1)).toBeLessThan(0.015);
    expect(dropPrompts(prompts, 0.1, createRng(1))).toEqual(dropped);
    expect(dropPrompts(prompts, 0, createRng(1))).toEqual(prompts);
    expect(() => dropPrompts(prompts, 1.5, createRng(1))).toThrow(/1.5/);
  });
});
