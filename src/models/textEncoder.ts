/**
 * What the UNet's cross-attention needs from text: token embeddings and which tokens are real.
 * Any encoder that gives these can be plugged in (fairdiff's small transformer, or e.g. a tfjs
 * graph model loaded from disk wrapped in an object with this shape).
 */
import type * as tf from "@tensorflow/tfjs-core";

export interface TextEmbedding {
  /** [B, tokens, embeddingDim]. */
  embeddings: tf.Tensor3D;
  /** [B, tokens]: 1 for real tokens, 0 for padding the attention should ignore. */
  mask: tf.Tensor2D;
}

export interface TextEncoder {
  /** Width of each token embedding (the UNet's contextDim). */
  readonly embeddingDim: number;
  /** Tokens per prompt in the output (constant, so conditional and null batches stack). */
  readonly sequenceLength: number;
  /** Embeds a batch of prompts. The caller owns (and disposes) the returned tensors. */
  encode(prompts: string[]): TextEmbedding;
  /** Trainable variables (empty for a frozen external encoder). */
  parameters(): tf.Variable[];
  dispose(): void;
}

export function disposeTextEmbedding(embedding: TextEmbedding): void {
  embedding.embeddings.dispose();
  embedding.mask.dispose();
}
