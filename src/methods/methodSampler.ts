/**
 * The sampler a method tunes (Methods 1 and 2), in the one `SamplerOptions` vocabulary of
 * generation and the audits (pipeline/guidedSampler.ts): `steps`, `guidanceScale`, `scheduler`,
 * `eta`. The methods' defaults differ from generation's: 10 steps (every training step samples),
 * guidance 3, DDIM.
 */
import type { SamplerOptions } from "../pipeline/guidedSampler";
import type { SchedulerName } from "../schedulers/createScheduler";
import { MethodOptionError, checkChoice, checkInteger, checkNumber } from "./methodOptionError";

export interface MethodSamplerOptions {
  /** The sampler the method tunes (defaults: 10 steps, guidance 3, "ddim"). */
  sampler?: SamplerOptions;
}

export interface SamplerSettings {
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerName;
  /** DDIM η (undefined: the scheduler's default, 0). */
  eta: number | undefined;
}

const SCHEDULERS: readonly SchedulerName[] = ["ddim", "ddpm", "dpm-solver++"];

export const METHOD_SAMPLING_STEPS = 10;
export const METHOD_GUIDANCE_SCALE = 3;

/**
 * The sampler settings, checked. `deterministicDdim`: the method back-propagates through the
 * DDIM chain itself (Method 1), so only DDIM with η = 0 will do.
 */
export function resolveMethodSampler(
  options: MethodSamplerOptions,
  { deterministicDdim = false }: { deterministicDdim?: boolean } = {},
): SamplerSettings {
  const sampler = options.sampler ?? {};
  if (sampler === null || typeof sampler !== "object") {
    throw new MethodOptionError("sampler", sampler, "{ steps, guidanceScale, scheduler, eta }");
  }
  const steps = checkInteger("sampler.steps", sampler.steps ?? METHOD_SAMPLING_STEPS, 1);
  const guidanceScale = checkNumber(
    "sampler.guidanceScale",
    sampler.guidanceScale ?? METHOD_GUIDANCE_SCALE,
  );
  const scheduler = checkChoice(
    "sampler.scheduler",
    sampler.scheduler ?? "ddim",
    deterministicDdim ? ["ddim"] : SCHEDULERS,
  );
  const eta = sampler.eta === undefined ? undefined : checkNumber("sampler.eta", sampler.eta);
  if (deterministicDdim && eta !== undefined && eta !== 0) {
    throw new MethodOptionError(
      "sampler.eta",
      eta,
      "0 (the chain gradient needs the deterministic DDIM sampler)",
    );
  }
  if (eta !== undefined && !(eta >= 0 && eta <= 1)) {
    throw new MethodOptionError("sampler.eta", eta, "in [0, 1]");
  }
  return { steps, guidanceScale, scheduler, eta };
}
