/** The settings every fairdiff scheduler shares (diffusers' names, camelCased). */
import type { BetaScheduleName } from "./betaSchedule";
import type { TimestepSpacing } from "./timestepSpacing";

/** What the network predicts: the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀, or x₀ itself. */
export type PredictionType = "epsilon" | "v_prediction" | "sample";

export interface SchedulerConfig {
  trainTimesteps: number;
  betaSchedule: BetaScheduleName;
  betaStart: number;
  betaEnd: number;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  /** Added to every inference timestep (Stable Diffusion uses 1 with "leading" spacing). */
  stepsOffset: number;
  /** Clamp the predicted x₀ to ±clipSampleRange (useful in pixel space, off for latents). */
  clipSample: boolean;
  clipSampleRange: number;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  trainTimesteps: 1000,
  betaSchedule: "scaled_linear",
  betaStart: 0.00085,
  betaEnd: 0.012,
  predictionType: "epsilon",
  timestepSpacing: "leading",
  stepsOffset: 0,
  clipSample: false,
  clipSampleRange: 1,
};

const PREDICTION_TYPES: PredictionType[] = ["epsilon", "v_prediction", "sample"];

export function resolveSchedulerConfig(partial: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const config = { ...DEFAULT_SCHEDULER_CONFIG, ...partial };
  if (!PREDICTION_TYPES.includes(config.predictionType)) {
    throw new Error(
      `unknown predictionType "${String(config.predictionType)}": expected ${PREDICTION_TYPES.join(", ")}`,
    );
  }
  if (!(config.betaStart > 0 && config.betaEnd < 1 && config.betaStart <= config.betaEnd)) {
    throw new Error(
      `betaStart/betaEnd must satisfy 0 < start ≤ end < 1, got ${config.betaStart}, ${config.betaEnd}`,
    );
  }
  if (!Number.isInteger(config.stepsOffset) || config.stepsOffset < 0) {
    throw new Error(`stepsOffset must be a non-negative integer, got ${config.stepsOffset}`);
  }
  return config;
}
