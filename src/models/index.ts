export { Module } from "./module";
export type { NamedWeights, SetWeightsOptions } from "./module";
export { fanInUniform, normalValues, uniformValues, constantValues } from "./initializers";
export { silu, gelu } from "./activations";
export { affineMap, matMul } from "./matMul";
export { Linear } from "./linear";
export type { LinearOptions } from "./linear";
export { Conv2d } from "./conv2d";
export type { Conv2dOptions } from "./conv2d";
export { LayerNorm, GroupNorm } from "./normalization";
export { Attention } from "./attention";
export type { AttentionKind, AttentionOptions } from "./attention";
export { TransformerBlock } from "./transformerBlock";
export type { TransformerBlockOptions } from "./transformerBlock";
export { sinusoidalEmbedding, TimestepEmbedding } from "./timestepEmbedding";
export { ResBlock } from "./resBlock";
export type { ResBlockOptions } from "./resBlock";
export { Downsample, Upsample, nearestUpsample2x } from "./resampling";
export { SpatialTransformer } from "./spatialTransformer";
export type { SpatialTransformerOptions } from "./spatialTransformer";
export { UNet, DEFAULT_UNET_CONFIG, validateUNetConfig } from "./unet";
export type { UNetConfig } from "./unet";
export { WordTokenizer, splitWords, PAD_TOKEN, UNK_TOKEN, BOS_TOKEN } from "./wordTokenizer";
export type {
  EncodedPrompts,
  TokenizeOptions,
  TokenizerJSON,
  VocabularyOptions,
} from "./wordTokenizer";
export { disposeTextEmbedding } from "./textEncoder";
export type { TextEmbedding, TextEncoder } from "./textEncoder";
export { TransformerTextEncoder, DEFAULT_TEXT_ENCODER_CONFIG } from "./transformerTextEncoder";
export type { TextEncoderConfig } from "./transformerTextEncoder";
export { SoftPrompt } from "./softPrompt";
export { KLAutoencoder, klDivergence, DEFAULT_AUTOENCODER_CONFIG } from "./autoencoder";
export type { AutoencoderConfig, LatentDistribution } from "./autoencoder";
export { psnr, psnrByGroup } from "./psnr";
export { LoraAdapter } from "./loraAdapter";
export type { LoraOptions } from "./loraAdapter";
export { LoraAdapters, addLoraAdapters } from "./lora";
export type { AttentionProjection, LoraEntry, LoraTargetOptions } from "./lora";
export {
  NULL_PROMPT,
  dropPrompts,
  guidanceBatch,
  guidedNoise,
  guideStackedOutput,
  nullPromptEmbedding,
} from "./classifierFreeGuidance";
