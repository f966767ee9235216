/**
 * Option names the methods took before they shared one vocabulary (issue #20), still accepted
 * because the CLI, the notebooks and scripts pass them. Each maps onto the shared name; giving
 * both with different values is refused. Remove an alias here once no caller uses it.
 *
 *  - `samplingSteps`, `guidanceScale`, `scheduler` (Methods 1 and 2) → `sampler.steps`,
 *    `sampler.guidanceScale`, `sampler.scheduler`;
 *  - Method 2's `trainable: "lora"` → its default `trainable: ["unet-lora", "text-lora"]`, and
 *    `lora: { rank, alpha, on }` → `rank`, `alpha`, `trainable` ("unet-cross" → "unet-lora",
 *    "text" → "text-lora").
 */
import type { SamplerOptions } from "../pipeline/guidedSampler";
import type { SchedulerName } from "../schedulers/createScheduler";
import type { AdapterKind, AdapterOptions } from "./adapters";
import { MethodOptionError } from "./methodOptionError";

export interface DeprecatedSamplerNames {
  /** @deprecated use `sampler.steps` */
  samplingSteps?: number;
  /** @deprecated use `sampler.guidanceScale` */
  guidanceScale?: number;
  /** @deprecated use `sampler.scheduler` */
  scheduler?: SchedulerName;
}

export type LoraTarget = "unet-cross" | "text";

export interface DeprecatedLoraNames {
  /** @deprecated use `rank`, `alpha` and `trainable: ["unet-lora", "text-lora"]` */
  lora?: { rank?: number; alpha?: number; on?: LoraTarget[] };
}

/** The one value of an option given under two names. */
function either<T>(name: string, value: T | undefined, alias: string, old: T | undefined) {
  if (value !== undefined && old !== undefined && value !== old) {
    throw new MethodOptionError(alias, old, `the same as ${name} (${String(value)}), or left out`);
  }
  return value ?? old;
}

/** `sampler` with the deprecated top-level names folded in. */
export function samplerWithDeprecatedNames(
  options: DeprecatedSamplerNames & { sampler?: SamplerOptions },
): SamplerOptions {
  const sampler = options.sampler ?? {};
  if (sampler === null || typeof sampler !== "object") {
    throw new MethodOptionError("sampler", sampler, "{ steps, guidanceScale, scheduler, eta }");
  }
  return {
    ...sampler,
    steps: either("sampler.steps", sampler.steps, "samplingSteps", options.samplingSteps),
    guidanceScale: either(
      "sampler.guidanceScale",
      sampler.guidanceScale,
      "guidanceScale",
      options.guidanceScale,
    ),
    scheduler: either("sampler.scheduler", sampler.scheduler, "scheduler", options.scheduler),
  };
}

const LORA_TARGETS: Record<LoraTarget, AdapterKind> = {
  "unet-cross": "unet-lora",
  text: "text-lora",
};

/** Method 2's adapter options with its deprecated names folded in. */
export function adaptersWithDeprecatedNames(
  options: Omit<AdapterOptions, "trainable"> &
    DeprecatedLoraNames & { trainable?: AdapterOptions["trainable"] | "lora" },
  defaultLora: readonly AdapterKind[],
): AdapterOptions & Required<Pick<AdapterOptions, "trainable">> {
  const { lora, trainable, ...rest } = options;
  const on = lora?.on?.map((target) => {
    if (!(target in LORA_TARGETS)) {
      throw new MethodOptionError("lora.on", target, `"unet-cross" or "text"`);
    }
    return LORA_TARGETS[target];
  });
  if (on !== undefined && trainable !== undefined && trainable !== "lora") {
    throw new MethodOptionError("lora.on", lora?.on, "left out when trainable is given");
  }
  return {
    ...rest,
    trainable: trainable === "lora" || trainable === undefined ? (on ?? defaultLora) : trainable,
    rank: either("rank", rest.rank, "lora.rank", lora?.rank),
    alpha: either("alpha", rest.alpha, "lora.alpha", lora?.alpha),
  };
}
