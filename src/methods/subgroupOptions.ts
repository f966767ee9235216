/**
 * Method 2's options (docs/methods.md §3.3): the shared ones (methodOptions.ts, adapters.ts,
 * methodSampler.ts) with its defaults, and its own — the consistency and confidence weights and
 * the share of noisy steps —, checked before any work.
 */
import type { SettingValue } from "../pipeline/runState";
import { checkNumber } from "./methodOptionError";
import {
  commonRunSettings,
  resolveMethodOptions,
  type MethodDefaults,
  type PromptedMethodOptions,
  type ResolvedMethodOptions,
} from "./methodOptions";
import {
  resolveMethodSampler,
  type MethodSamplerOptions,
  type SamplerSettings,
} from "./methodSampler";

export interface SubgroupAlignedTuningOptions extends PromptedMethodOptions, MethodSamplerOptions {
  /** λ of the consistency term (default 1). */
  consistencyWeight?: number;
  /** γ of the per-image confidence (mean entropy) term (default 0: off). */
  confidenceWeight?: number;
  /** Share of the sampler's steps (the noisiest) where the loss is applied (default 0.6). */
  noisyFraction?: number;
}

export const DEFAULT_LORA = ["unet-lora", "text-lora"] as const;

/** Method 2's defaults (docs/methods.md §3.3); the learning rate was measured on cxr-mini. */
export const SUBGROUP_DEFAULTS: MethodDefaults = {
  batchSize: 16,
  learningRate: (kinds) => (kinds.includes("unet") || kinds.includes("text") ? 2e-5 : 5e-4),
  weightDecay: 0,
  warmupSteps: (steps) => Math.min(20, Math.ceil(steps / 10)),
  trainable: DEFAULT_LORA,
  prompted: true,
};

/** Method 2's options after defaults. */
export interface SubgroupSettings {
  resolved: ResolvedMethodOptions;
  sampler: SamplerSettings;
  /** λ, γ. */
  consistencyWeight: number;
  confidenceWeight: number;
  noisyFraction: number;
}

export function resolveSubgroupOptions(options: SubgroupAlignedTuningOptions): SubgroupSettings {
  return {
    resolved: resolveMethodOptions(options, SUBGROUP_DEFAULTS),
    sampler: resolveMethodSampler(options),
    consistencyWeight: checkNumber("consistencyWeight", options.consistencyWeight ?? 1, {
      min: 0,
    }),
    confidenceWeight: checkNumber("confidenceWeight", options.confidenceWeight ?? 0, { min: 0 }),
    noisyFraction: checkNumber("noisyFraction", options.noisyFraction ?? 0.6, {
      above: 0,
      max: 1,
    }),
  };
}

/** Method 2's settings in its state file, after the model, classifier, prompts and target. */
export function subgroupRunSettings(settings: SubgroupSettings): Record<string, SettingValue> {
  const { sampler } = settings;
  return {
    ...commonRunSettings(settings.resolved),
    "consistency weight": settings.consistencyWeight,
    "confidence weight": settings.confidenceWeight,
    guidance: sampler.guidanceScale,
    "sampling steps": sampler.steps,
    "noisy fraction": settings.noisyFraction,
    scheduler: sampler.scheduler,
    eta: sampler.eta ?? null,
  };
}
