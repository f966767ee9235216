/**
 * The settings of the end-to-end study (`fairdiff start --headless`): how many images each audit
 * generates, how the bias is fixed (Method 1, distributional alignment) and for how long. Quick
 * mode is for tests and a first look (about a minute on two cores); full mode for numbers worth
 * quoting.
 */
import { NEUTRAL_EFFUSION_PROMPT } from "../data/cohorts/chestRadiograph";
import type { AdapterKind } from "../methods/adapters";

export interface StudySettings {
  quick: boolean;
  /** One seed for the audits; the fine-tuning takes its own derived seed. */
  seed: number;
  /** The prompt audited and fixed: it names the finding but no sex or race. */
  prompt: string;
  /** Attributes audited (classifier heads); each against a uniform target. */
  attributes: string[];
  /** The attribute Method 1 balances (uniform target), and the headline. */
  fixAttribute: string;
  imagesPerAudit: number;
  /** DDIM steps of the audits' sampler. */
  samplerSteps: number;
  /** Bootstrap resamples per interval. */
  resamples: number;
  /** Held-out real images for the quality audit (FID per group, ES-FID); 0 = no quality audit. */
  realImages: number;
  alignment: {
    steps: number;
    batchSize: number;
    learningRate: number;
    /** The sampler being tuned: DDIM steps of the chain the fine-tuning back-propagates through. */
    sampler: { steps: number };
    /**
     * What is trained. Text LoRA (the full study's choice) reached the target in 40 steps; UNet
     * LoRA lets the outcome depend on the noise and needs more steps at a lower rate.
     */
    trainable: AdapterKind;
  };
}

export const STUDY_PROMPT = NEUTRAL_EFFUSION_PROMPT;

export function studySettings(
  quick: boolean,
  overrides: Partial<StudySettings> = {},
): StudySettings {
  const base: StudySettings = quick
    ? {
        quick: true,
        seed: 0,
        prompt: STUDY_PROMPT,
        attributes: ["sex", "race"],
        fixAttribute: "sex",
        imagesPerAudit: 24,
        samplerSteps: 10,
        resamples: 200,
        realImages: 0,
        alignment: {
          steps: 8,
          batchSize: 4,
          learningRate: 1e-2,
          sampler: { steps: 10 },
          trainable: "unet-lora",
        },
      }
    : {
        quick: false,
        seed: 0,
        prompt: STUDY_PROMPT,
        attributes: ["sex", "race"],
        fixAttribute: "sex",
        imagesPerAudit: 128,
        samplerSteps: 25,
        resamples: 2000,
        realImages: 256,
        // Measured (scripts/distributional-alignment.ts, seed 3, 256 images): Shen bias
        // 0.938 → 0.000 and per-group FID down a third with these settings; UNet LoRA at 5e-3
        // only reached 0.141.
        alignment: {
          steps: 40,
          batchSize: 8,
          learningRate: 3e-3,
          sampler: { steps: 10 },
          trainable: "text-lora",
        },
      };
  const settings = {
    ...base,
    ...overrides,
    alignment: { ...base.alignment, ...overrides.alignment },
  };
  checkSettings(settings);
  return settings;
}

function checkSettings(s: StudySettings): void {
  const positive = (value: number, name: string, min = 1) => {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`study ${name} must be an integer ≥ ${min}, got ${value}`);
    }
  };
  positive(s.imagesPerAudit, "imagesPerAudit", 2);
  positive(s.samplerSteps, "samplerSteps");
  positive(s.resamples, "resamples", 10);
  positive(s.realImages, "realImages", 0);
  positive(s.alignment.steps, "alignment.steps");
  positive(s.alignment.batchSize, "alignment.batchSize", 2);
  positive(s.alignment.sampler.steps, "alignment.sampler.steps");
  if (!(s.alignment.learningRate > 0)) {
    throw new Error(`study alignment.learningRate must be > 0, got ${s.alignment.learningRate}`);
  }
  if (!s.attributes.includes(s.fixAttribute)) {
    throw new Error(
      `study fixAttribute "${s.fixAttribute}" is not among the audited attributes (${s.attributes.join(", ")})`,
    );
  }
}
