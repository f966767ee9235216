/**
 * The settings of a side-by-side comparison of the fixes (`fairdiff compare`): which fixes run,
 * the one budget they share (steps × images per step), the prompts and target they all aim at,
 * and the one audit every result gets. Quick mode is for CI and a first look (a couple of minutes
 * on two cores); full mode for the numbers in the README.
 */
import { NEUTRAL_EFFUSION_PROMPT } from "../data/cohorts/chestRadiograph";
import type { TargetDistributions } from "../methods/methodEvents";
import { FIX_NAMES, type FixName } from "../methods/startFix";

export interface ComparisonAuditSettings {
  /** Images per prompt in the representation audit. */
  imagesPerPrompt: number;
  /** DDIM steps of every audit's sampler. */
  samplerSteps: number;
  /** Bootstrap resamples per interval. */
  resamples: number;
  /** Held-out real images for the quality audit (FID, KID, clinical AUC, memorisation). */
  realImages: number;
  /** Seed of the held-out real draw (not the training cohort's). */
  realSeed: number;
  /** Clinical semantic correlation (finding AUC, ES-AUC). */
  clinical: boolean;
  /** Training images searched for near-copies (the first n of the preset's cohort); 0 = off. */
  memorisationImages: number;
}

export interface ComparisonSettings {
  quick: boolean;
  /** The fixes run, each from a fresh copy of the base model. */
  fixes: FixName[];
  /** Fine-tuning seed, the same for every fix; the audits take `auditSeed`. */
  seed: number;
  auditSeed: number;
  /** Prompts every fix debiases and every audit generates from. */
  prompts: string[];
  /** The target every fix aims at and every audit's bias is measured against. */
  target: TargetDistributions;
  /** Attributes audited (classifier heads); those not targeted show what a fix did to them. */
  attributes: string[];
  /** The shared budget: optimisation steps × images per step. */
  steps: number;
  batchSize: number;
  audit: ComparisonAuditSettings;
}

const QUICK: ComparisonSettings = {
  quick: true,
  fixes: [...FIX_NAMES],
  seed: 0,
  auditSeed: 21,
  prompts: [NEUTRAL_EFFUSION_PROMPT],
  target: { sex: { Female: 0.5, Male: 0.5 } },
  attributes: ["sex", "race"],
  steps: 3,
  batchSize: 4,
  audit: {
    imagesPerPrompt: 16,
    samplerSteps: 5,
    resamples: 200,
    realImages: 40,
    realSeed: 99,
    clinical: true,
    memorisationImages: 400,
  },
};

const FULL: ComparisonSettings = {
  quick: false,
  fixes: [...FIX_NAMES],
  seed: 3,
  auditSeed: 21,
  prompts: [NEUTRAL_EFFUSION_PROMPT],
  target: { sex: { Female: 0.5, Male: 0.5 } },
  attributes: ["sex", "race"],
  steps: 40,
  batchSize: 8,
  audit: {
    imagesPerPrompt: 256,
    samplerSteps: 25,
    resamples: 2000,
    realImages: 256,
    realSeed: 99,
    clinical: true,
    memorisationImages: 4000,
  },
};

export type ComparisonOverrides = Partial<Omit<ComparisonSettings, "audit">> & {
  audit?: Partial<ComparisonAuditSettings>;
};

export function comparisonSettings(
  quick: boolean,
  overrides: ComparisonOverrides = {},
): ComparisonSettings {
  const base = quick ? QUICK : FULL;
  const settings: ComparisonSettings = {
    ...structuredClone(base),
    ...overrides,
    audit: { ...base.audit, ...overrides.audit },
  };
  checkComparisonSettings(settings);
  return settings;
}

function checkInteger(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`comparison ${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

function checkComparisonSettings(s: ComparisonSettings): void {
  if (s.fixes.length === 0) throw new Error("comparison fixes must name at least one fix");
  for (const fix of s.fixes) {
    if (!FIX_NAMES.includes(fix)) {
      throw new Error(`comparison fixes: unknown fix "${fix}" (expected ${FIX_NAMES.join(", ")})`);
    }
  }
  if (new Set(s.fixes).size !== s.fixes.length) {
    throw new Error(`comparison fixes name a fix twice: ${s.fixes.join(", ")}`);
  }
  if (s.prompts.length === 0) throw new Error("comparison prompts must name at least one prompt");
  if (Object.keys(s.target).length === 0) throw new Error("comparison target names no attribute");
  checkInteger(s.seed, "seed", 0);
  checkInteger(s.auditSeed, "auditSeed", 0);
  checkInteger(s.steps, "steps", 1);
  checkInteger(s.batchSize, "batchSize", 2);
  checkInteger(s.audit.imagesPerPrompt, "audit.imagesPerPrompt", 2);
  checkInteger(s.audit.samplerSteps, "audit.samplerSteps", 1);
  checkInteger(s.audit.resamples, "audit.resamples", 10);
  checkInteger(s.audit.realImages, "audit.realImages", 0);
  checkInteger(s.audit.realSeed, "audit.realSeed", 0);
  checkInteger(s.audit.memorisationImages, "audit.memorisationImages", 0);
}
