/** A latent diffusion model small enough for unit tests (16×16 images, 4×4 latents). */
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import type { TrainingExample } from "../../src/pipeline/trainDenoiser";

export const TINY_CONFIG = {
  imageSize: 16,
  imageChannels: 1 as const,
  autoencoder: { blockChannels: [8, 8, 8], normGroups: 4, latentChannels: 4 },
  unet: { blockChannels: [16, 16], attentionLevels: [false, true], heads: 2, normGroups: 4 },
  textEncoder: { width: 16, layers: 1, heads: 2, mlpRatio: 2 },
};

export function tinyExamples(size = 16, seed = 1): TrainingExample[] {
  const cohort = createSyntheticCohort({ cohort: "cxr", size, seed, imageSize: 16 });
  return cohort.records.map((_, i) => {
    const s = cohort.sampleAt(i);
    return { image: s.image, prompt: s.prompt };
  });
}

export function tinyModel(examples: TrainingExample[], seed = 3): LatentDiffusionModel {
  return LatentDiffusionModel.create(
    examples.map((e) => e.prompt),
    TINY_CONFIG,
    seed,
  );
}
