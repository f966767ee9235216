/**
 * The options the three methods share — the same names, meanings and checks in each; only the
 * defaults are the method's own (docs/methods.md §2.6, §3.3, §4.3). Every option is checked
 * before any work, and a bad one is refused naming the option, the value and what is expected.
 */
import type { SettingValue } from "../pipeline/runState";
import {
  adapterRunSettings,
  resolveAdapterOptions,
  type AdapterKind,
  type AdapterOptions,
  type AdapterSettings,
} from "./adapters";
import type { TargetGetter } from "./methodEvents";
import { MethodOptionError, checkChoice, checkInteger, checkNumber } from "./methodOptionError";
import type { MethodRunOptions } from "./methodRunLoop";
import { targetGetter, type TargetOption } from "./methodTarget";
import { checkEvaluationOptions } from "./periodicEvaluation";

export type LearningRateShape = "cosine" | "constant";

/** What every method takes. */
export interface MethodOptions extends MethodRunOptions, AdapterOptions {
  seed: number;
  /** attribute → group → probability, or a getter read every step (a slider can move it). */
  target?: TargetOption;
  /** Images per step (≥ 2). */
  batchSize?: number;
  /** AdamW peak learning rate. */
  learningRate?: number;
  /**
   * "cosine" (default): linear warm-up, then cosine decay to a tenth of the peak. "constant"
   * keeps reacting at full speed to a target changed late in the run (a live slider).
   */
  schedule?: LearningRateShape;
  warmupSteps?: number;
  /** Adam's momentum β₁ (default 0.9); lower values overshoot a target less. */
  beta1?: number;
  weightDecay?: number;
  /** Global gradient-norm clip (default 1). */
  clipNorm?: number;
  /** EMA of the trained parameters, which becomes the result (off by default). */
  emaDecay?: number;
}

/** Methods 1 and 2: they sample from prompts and aim at a target. */
export interface PromptedMethodOptions extends MethodOptions {
  /** Prompts whose images are debiased (e.g. the neutral "… patient diagnosed with …"). */
  prompts: string[];
  target: TargetOption;
}

/** A method's own defaults. */
export interface MethodDefaults {
  batchSize: number;
  /** A number, or one that depends on what is trained (LoRA takes larger steps). */
  learningRate: number | ((kinds: readonly AdapterKind[]) => number);
  weightDecay: number;
  /** A number, or one that depends on the run's length. */
  warmupSteps: number | ((steps: number) => number);
  /** What is trained when `trainable` is not given. */
  trainable: readonly AdapterKind[];
  /** Whether the method reads `prompts` and needs a `target`. */
  prompted: boolean;
}

export interface ResolvedMethodOptions {
  steps: number;
  seed: number;
  batchSize: number;
  learningRate: number;
  schedule: LearningRateShape;
  warmupSteps: number;
  beta1: number;
  weightDecay: number;
  clipNorm: number;
  emaDecay: number | undefined;
  adapters: AdapterSettings;
  /** The target getter; undefined when the method's target is optional and none was given. */
  target: TargetGetter | undefined;
}

/** Checks the shared options and resolves their defaults. */
/**
 * Options an earlier fairdiff took under other names. Notebook cells are transpiled, not
 * type-checked: without this, an old name would be ignored and the run would quietly use a
 * default instead of what was asked.
 */
const RENAMED_OPTIONS: Readonly<Record<string, string>> = {
  samplingSteps: "sampler: { steps }",
  guidanceScale: "sampler: { guidanceScale }",
  scheduler: "sampler: { scheduler }",
  eta: "sampler: { eta }",
  lora: "rank / alpha / trainable",
  trainText: 'trainable: ["text", "unet"]',
};

function refuseRenamedOptions(options: object): void {
  for (const [name, now] of Object.entries(RENAMED_OPTIONS)) {
    if (name in options && (options as Record<string, unknown>)[name] !== undefined) {
      throw new Error(`${name} is not an option of the methods any more: use ${now}`);
    }
  }
}

export function resolveMethodOptions(
  options: MethodOptions & { prompts?: unknown },
  defaults: MethodDefaults,
): ResolvedMethodOptions {
  refuseRenamedOptions(options);
  const steps = checkInteger("steps", options.steps, 1);
  const seed = options.seed;
  if (!Number.isInteger(seed)) throw new MethodOptionError("seed", seed, "an integer");
  if (defaults.prompted) checkPrompts(options.prompts);
  const target =
    defaults.prompted || options.target !== undefined ? targetGetter(options.target) : undefined;
  const adapters = resolveAdapterOptions(options, defaults.trainable);
  const learningRate =
    options.learningRate ??
    (typeof defaults.learningRate === "number"
      ? defaults.learningRate
      : defaults.learningRate(adapters.kinds));
  const warmupSteps =
    options.warmupSteps ??
    (typeof defaults.warmupSteps === "number" ? defaults.warmupSteps : defaults.warmupSteps(steps));
  const resolved: ResolvedMethodOptions = {
    steps,
    seed,
    batchSize: checkInteger("batchSize", options.batchSize ?? defaults.batchSize, 2),
    learningRate: checkNumber("learningRate", learningRate, { above: 0 }),
    schedule: checkChoice("schedule", options.schedule ?? "cosine", ["cosine", "constant"]),
    warmupSteps: checkInteger("warmupSteps", warmupSteps, 0),
    beta1: checkNumber("beta1", options.beta1 ?? 0.9, { min: 0, below: 1 }),
    weightDecay: checkNumber("weightDecay", options.weightDecay ?? defaults.weightDecay, {
      min: 0,
    }),
    clipNorm: checkNumber("clipNorm", options.clipNorm ?? 1, { above: 0 }),
    emaDecay:
      options.emaDecay === undefined
        ? undefined
        : checkNumber("emaDecay", options.emaDecay, { min: 0, below: 1 }),
    adapters,
    target,
  };
  checkRunOptions(options);
  return resolved;
}

/** The step loop's own options: state file, checkpoints, evaluation. */
function checkRunOptions(options: MethodRunOptions): void {
  if (
    options.stateFile !== undefined &&
    (typeof options.stateFile !== "string" || !options.stateFile)
  ) {
    throw new MethodOptionError("stateFile", options.stateFile, "a file path");
  }
  if (options.checkpointEvery !== undefined) {
    checkInteger("checkpointEvery", options.checkpointEvery, 1);
  }
  if (options.evaluation) checkEvaluationOptions(options.evaluation);
}

function checkPrompts(prompts: unknown): void {
  if (
    !Array.isArray(prompts) ||
    prompts.length === 0 ||
    prompts.some((p) => typeof p !== "string")
  ) {
    throw new MethodOptionError("prompts", prompts, "a list of at least one prompt");
  }
}

/**
 * The shared part of a run's settings (runState.ts), the same names in the three methods. Left
 * out: checkpointing, evaluation and `mergeAtEnd`, which do not change the trained weights.
 */
export function commonRunSettings(resolved: ResolvedMethodOptions): Record<string, SettingValue> {
  return {
    steps: resolved.steps,
    seed: resolved.seed,
    "batch size": resolved.batchSize,
    "learning rate": resolved.learningRate,
    schedule: resolved.schedule,
    "warm-up steps": resolved.warmupSteps,
    beta1: resolved.beta1,
    "weight decay": resolved.weightDecay,
    "clip norm": resolved.clipNorm,
    ...adapterRunSettings(resolved.adapters),
    "EMA decay": resolved.emaDecay ?? null,
  };
}
