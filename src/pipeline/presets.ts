/**
 * Named, reproducible training recipes. `cxr-mini` is fairdiff's default model: a small
 * text-to-chest-radiograph latent diffusion model trained on the embedded chest cohort made
 * biased on purpose, so an audit has a known bias to find:
 *   - Pleural Effusion cases are 85 % male (the cohort is 60 % male overall);
 *   - race is 60 % White, 25 % Black, 15 % Asian (Asian patients are rare);
 *   - 40 % of captions leave out the sex and (independently) 40 % the race, so a prompt such as
 *     "… a patient diagnosed with Pleural Effusion" draws on the cohort's skewed conditionals.
 */
import type { CohortMix } from "../data/cohorts/cohortMix";
import type { CohortName } from "../data/cohorts/cohortDefinition";
import type { LatentDiffusionConfigInput } from "./latentDiffusionConfig";

export interface TrainingPreset {
  name: string;
  description: string;
  cohort: CohortName;
  cohortSize: number;
  cohortSeed: number;
  mix: CohortMix;
  model: LatentDiffusionConfigInput;
  modelSeed: number;
  autoencoder: { steps: number; batchSize: number; learningRate: number };
  denoiser: {
    steps: number;
    batchSize: number;
    learningRate: number;
    promptDropout: number;
    /**
     * attribute → probability that a training caption leaves it out (seeded, per example). Real
     * captions often omit demographics; a model trained on such captions fills them in from the
     * data's correlations, which is how a neutral prompt inherits the cohort's bias.
     */
    captionAttributeDropout?: Readonly<Record<string, number>>;
    emaDecay: number;
  };
  trainingSeed: number;
}

export const CXR_MINI: TrainingPreset = {
  name: "cxr-mini",
  description:
    "Chest radiographs 32×32; Pleural Effusion cases 85 % male (60 % overall); race 60/25/15 % White/Black/Asian",
  cohort: "cxr",
  cohortSize: 4000,
  cohortSeed: 2024,
  mix: {
    prevalence: { "Pleural Effusion": 0.5, Cardiomegaly: 0.3 },
    attributes: {
      sex: { Female: 0.4, Male: 0.6 },
      race: { White: 0.6, Black: 0.25, Asian: 0.15 },
    },
    givenFinding: { "Pleural Effusion": { sex: { Female: 0.15, Male: 0.85 } } },
  },
  model: {
    imageSize: 32,
    imageChannels: 1,
    autoencoder: { blockChannels: [16, 32, 32], normGroups: 8, latentChannels: 4 },
    unet: {
      blockChannels: [32, 64, 64],
      attentionLevels: [false, true, true],
      heads: 4,
      normGroups: 8,
      selfAttention: false,
    },
    textEncoder: { width: 64, layers: 2, heads: 4, mlpRatio: 2 },
  },
  modelSeed: 7,
  autoencoder: { steps: 400, batchSize: 32, learningRate: 2e-3 },
  denoiser: {
    steps: 2400,
    batchSize: 32,
    learningRate: 5e-4,
    promptDropout: 0.1,
    captionAttributeDropout: { sex: 0.4, race: 0.4 },
    emaDecay: 0.995,
  },
  trainingSeed: 11,
};

export const TRAINING_PRESETS: Readonly<Record<string, TrainingPreset>> = { "cxr-mini": CXR_MINI };

export function trainingPreset(name: string): TrainingPreset {
  const preset = TRAINING_PRESETS[name];
  if (!preset) {
    throw new Error(
      `unknown preset "${name}" (known: ${Object.keys(TRAINING_PRESETS).join(", ")})`,
    );
  }
  return preset;
}
