/**
 * fairdiff's own text encoder: word tokens → token + position embeddings → pre-LN transformer
 * blocks (self-attention over the prompt, padding masked) → final LayerNorm. Its per-token
 * outputs are the keys and values of the UNet's cross-attention. Optional soft prompt tokens
 * are prepended to the token embeddings before the transformer.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng } from "../util/random";
import { normalValues } from "./initializers";
import { Module } from "./module";
import { LayerNorm } from "./normalization";
import { SoftPrompt } from "./softPrompt";
import type { TextEmbedding, TextEncoder } from "./textEncoder";
import { TransformerBlock } from "./transformerBlock";
import type { TokenizeOptions, WordTokenizer } from "./wordTokenizer";

export interface TextEncoderConfig {
  width: number;
  layers: number;
  heads: number;
  mlpRatio: number;
}

export const DEFAULT_TEXT_ENCODER_CONFIG: TextEncoderConfig = {
  width: 64,
  layers: 2,
  heads: 4,
  mlpRatio: 4,
};

export class TransformerTextEncoder extends Module implements TextEncoder {
  readonly config: TextEncoderConfig;
  readonly tokenizer: WordTokenizer;
  readonly tokenEmbedding: tf.Variable;
  readonly positionEmbedding: tf.Variable;
  readonly blocks: TransformerBlock[] = [];
  readonly finalNorm: LayerNorm;
  /** How prompts longer than the tokenizer's maxLength are handled. */
  overflow: TokenizeOptions["overflow"] = "error";
  private soft: SoftPrompt | undefined;

  constructor(
    tokenizer: WordTokenizer,
    config: Partial<TextEncoderConfig> = {},
    rngOrSeed: Rng | number = 0,
  ) {
    super();
    this.config = { ...DEFAULT_TEXT_ENCODER_CONFIG, ...config };
    const { width, layers, heads, mlpRatio } = this.config;
    if (width % heads !== 0)
      throw new Error(`text width ${width} does not split into ${heads} heads`);
    const rng = typeof rngOrSeed === "number" ? createRng(rngOrSeed) : rngOrSeed;
    this.tokenizer = tokenizer;
    // CLIP's init scales: tokens N(0, 0.02²), positions N(0, 0.01²).
    this.tokenEmbedding = this.addParameter(
      "tokenEmbedding",
      normalValues(tokenizer.vocabularySize * width, 0.02, rng.fork("tokens")),
      [tokenizer.vocabularySize, width],
    );
    this.positionEmbedding = this.addParameter(
      "positionEmbedding",
      normalValues(tokenizer.maxLength * width, 0.01, rng.fork("positions")),
      [tokenizer.maxLength, width],
    );
    for (let i = 0; i < layers; i++) {
      this.blocks.push(
        this.addModule(
          `block${i}`,
          new TransformerBlock(
            { width, heads, selfAttention: true, mlpRatio },
            rng.fork(`block${i}`),
          ),
        ),
      );
    }
    this.finalNorm = this.addModule("finalNorm", new LayerNorm(width));
  }

  get embeddingDim(): number {
    return this.config.width;
  }

  get sequenceLength(): number {
    return this.tokenizer.maxLength + (this.soft?.tokens ?? 0);
  }

  get softPrompt(): SoftPrompt | undefined {
    return this.soft;
  }

  /** Adds n learnable prompt tokens (initialised from rng); returns them for training. */
  attachSoftPrompt(tokens: number, rng: Rng): SoftPrompt {
    if (this.soft) throw new Error("this encoder already has a soft prompt");
    this.soft = this.addModule("softPrompt", new SoftPrompt(tokens, this.config.width, rng));
    return this.soft;
  }

  detachSoftPrompt(): void {
    if (!this.soft) throw new Error("this encoder has no soft prompt");
    this.removeModule("softPrompt");
    this.soft = undefined;
  }

  encode(prompts: string[]): TextEmbedding {
    const encoded = this.tokenizer.encode(prompts, { overflow: this.overflow });
    const shape: [number, number] = [encoded.batch, encoded.maxLength];
    const ids = tf.tensor2d(encoded.ids, shape, "int32");
    const mask = tf.tensor2d(encoded.mask, shape);
    try {
      return this.encodeIds(ids, mask);
    } finally {
      ids.dispose();
      mask.dispose();
    }
  }

  /** ids: [B, maxLength] int32; mask: [B, maxLength]. */
  encodeIds(ids: tf.Tensor2D, mask: tf.Tensor2D): TextEmbedding {
    const [batch, length] = ids.shape;
    if (length !== this.tokenizer.maxLength) {
      throw new Error(
        `expected ${this.tokenizer.maxLength} token ids per prompt, got [${ids.shape}]`,
      );
    }
    const [embeddings, fullMask] = tf.tidy(() => {
      const width = this.config.width;
      const tokens = tf
        .gather(this.tokenEmbedding, ids.reshape([-1]))
        .reshape([batch, length, width]);
      let h = tf.add(tokens, this.positionEmbedding) as tf.Tensor3D;
      let keyMask = mask;
      if (this.soft) ({ tokens: h, mask: keyMask } = this.soft.prepend(h, mask));
      for (const block of this.blocks) h = block.apply(h, undefined, undefined, keyMask);
      return [this.finalNorm.apply(h) as tf.Tensor3D, keyMask.clone()];
    });
    return { embeddings, mask: fullMask };
  }
}
