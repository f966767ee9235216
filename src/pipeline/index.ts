export {
  LatentDiffusionModel,
  imagesToTensor,
  LATENT_DIFFUSION_KIND,
} from "./latentDiffusionModel";
export type { LatentDiffusionMetadata } from "./latentDiffusionModel";
export { resolveLatentDiffusionConfig } from "./latentDiffusionConfig";
export type { LatentDiffusionConfig, LatentDiffusionConfigInput } from "./latentDiffusionConfig";
export {
  generateImages,
  denoiseLatents,
  initialLatents,
  type GenerateOptions,
} from "./textToImage";
export { autoencoderTraining, calibrateScalingFactor } from "./trainAutoencoder";
export type { AutoencoderTrainingOptions } from "./trainAutoencoder";
export { denoiserTraining, encodeLatents } from "./trainDenoiser";
export type { DenoiserTrainingOptions, TrainingExample } from "./trainDenoiser";
export type {
  TrainingEvent,
  TrainingStepEvent,
  TrainingCheckpointEvent,
  TrainingSummary,
} from "./trainingEvents";
export { learningRateAt, type LearningRateSchedule } from "./learningRateSchedule";
export { resetDenoiser } from "./resetDenoiser";
export { reconstructionPsnr, type ReconstructionQuality } from "./reconstructionQuality";
export { CXR_MINI, TRAINING_PRESETS, trainingPreset, type TrainingPreset } from "./presets";
