/**
 * Resumable training state — one format for every fairdiff trainer (the three mitigation
 * methods, the autoencoder and the denoiser): the trained weights, their moving average, the
 * optimiser's moments, the step reached, whether the run was complete, and the settings the run
 * was started with. A state file is resumed only by a run with the very same settings: one
 * written under others (or by an earlier fairdiff that kept none) is refused with every
 * difference named, since resuming it would silently mix two runs (or, for a completed run,
 * record settings it never trained with).
 */
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from "../io/checkpoint";
import type { OptimizerState, StepOptimizer } from "../parallel/optimizerSpec";
import type { WeightAverage } from "./ema";
import { optimizerStateFrom, optimizerTensors } from "./optimizerCheckpoint";

export type SettingValue = string | number | boolean | null;

/**
 * Every setting that changes a run's result, flat: readable name → value (hashes stand for
 * models and data). Compared key by key; the names appear in refusals.
 */
export type RunSettings = Readonly<Record<string, SettingValue>>;

/** What a refusal suggests by default (the fine-tuning CLI's flags). */
export const RESTART_ADVICE = "Re-run with --restart to start over, or pass another --state file.";

/** A run's state at one step. */
export interface RunState<Extra = undefined> {
  step: number;
  /** The step reached is the run's last. */
  complete: boolean;
  /** The trained variables' values, in the trainer's order. */
  weights: Float32Array[];
  /** Their moving average, when the run keeps one. */
  average?: Float32Array[];
  optimizer: OptimizerState;
  /** Anything else the trainer needs to continue exactly (JSON), e.g. a σ search. */
  extra?: Extra;
}

interface RunStateMetadata<Extra> {
  settings: RunSettings;
  step: number;
  complete: boolean;
  iterations: number;
  extra?: Extra;
}

/** A state file that cannot be shown to belong to this run. */
export class StaleRunStateError extends Error {
  constructor(
    readonly file: string,
    /** Each differing setting as "name saved → current"; undefined: the file recorded none. */
    readonly differences: string[] | undefined,
    readonly advice = RESTART_ADVICE,
    /** What the file is, when its name does not say (e.g. "the denoiser stage's state"). */
    readonly role?: string,
  ) {
    const named = role === undefined ? file : `${file} (${role})`;
    super(
      differences === undefined
        ? `${named} was written by an earlier fairdiff that did not record its settings, so it cannot be shown to belong to this run. ${advice}`
        : `${named} was written with other settings: ${differences.join("; ")}. ${advice}`,
    );
    this.name = "StaleRunStateError";
  }

  /** The same refusal worded for a caller: its own suggestion, and what the file is to it. */
  reworded(advice: string, role?: string): StaleRunStateError {
    return new StaleRunStateError(this.file, this.differences, advice, role);
  }
}

/** "name saved → current" for every setting whose value differs (a missing one reads "none"). */
export function settingsDifferences(saved: RunSettings, current: RunSettings): string[] {
  const names = [...new Set([...Object.keys(current), ...Object.keys(saved)])];
  return names
    .filter((name) => (saved[name] ?? null) !== (current[name] ?? null))
    .map((name) => `${name} ${showSetting(saved[name])} → ${showSetting(current[name])}`);
}

function showSetting(value: SettingValue | undefined): string {
  if (value === null || value === undefined) return "none";
  // A SHA-256 fingerprint: its head is enough to see that it changed.
  if (typeof value === "string" && /^[0-9a-f]{64}$/.test(value)) return `${value.slice(0, 12)}…`;
  return String(value);
}

/** Throws a StaleRunStateError unless `saved` (read from `file`) equals `current`. */
export function checkRunSettings(
  file: string,
  saved: RunSettings | undefined,
  current: RunSettings,
  advice?: string,
): void {
  if (saved === undefined || saved === null || typeof saved !== "object") {
    throw new StaleRunStateError(file, undefined, advice);
  }
  const differences = settingsDifferences(saved, current);
  if (differences.length > 0) throw new StaleRunStateError(file, differences, advice);
}

/**
 * The state file a run resumes from: undefined when there is none or none is given; with
 * `restart` an existing file is deleted first, so that whatever is found there later was written
 * by this run.
 */
export function stateToResume(
  stateFile: string | undefined,
  restart: boolean | undefined,
): string | undefined {
  if (stateFile === undefined || !fs.existsSync(stateFile)) return undefined;
  if (restart) {
    fs.rmSync(stateFile, { force: true });
    return undefined;
  }
  return stateFile;
}

/** Writes `state` with the run's `settings` (atomically); `shapes` are the weights' shapes. */
export function saveRunState<Extra>(
  file: string,
  kind: string,
  settings: RunSettings,
  shapes: readonly number[][],
  state: RunState<Extra>,
): void {
  const tensors: Record<string, CheckpointTensor> = {};
  state.weights.forEach((values, i) => (tensors[`weights.${i}`] = { values, shape: shapes[i] }));
  state.average?.forEach((values, i) => (tensors[`average.${i}`] = { values, shape: shapes[i] }));
  Object.assign(tensors, optimizerTensors(state.optimizer));
  const metadata: RunStateMetadata<Extra> = {
    settings,
    step: state.step,
    complete: state.complete,
    iterations: state.optimizer.iterations,
    ...(state.extra === undefined ? {} : { extra: state.extra }),
  };
  saveCheckpoint(file, { kind, metadata, tensors });
}

/**
 * Reads the state in `file`, refusing it (StaleRunStateError) unless it was written with
 * `settings`, or (Error) unless it holds weights of `shapes`.
 */
export function loadRunState<Extra = undefined>(
  file: string,
  kind: string,
  settings: RunSettings,
  shapes: readonly number[][],
  advice?: string,
): RunState<Extra> {
  const checkpoint = loadCheckpoint<Partial<RunStateMetadata<Extra>>>(file, kind);
  const metadata = checkpoint.metadata ?? {};
  checkRunSettings(file, metadata.settings, settings, advice);
  const read = (prefix: string) =>
    shapes.map((shape, i) => {
      const tensor = checkpoint.tensors[`${prefix}.${i}`];
      if (!tensor || tensor.shape.join("x") !== shape.join("x")) {
        throw new Error(
          `${file} does not hold this run's trained variables (${prefix}.${i}: [${tensor?.shape ?? "missing"}], expected [${shape}])`,
        );
      }
      return tensor.values;
    });
  return {
    step: metadata.step ?? 0,
    complete: metadata.complete ?? false,
    weights: read("weights"),
    average: "average.0" in checkpoint.tensors ? read("average") : undefined,
    optimizer: optimizerStateFrom(checkpoint.tensors, metadata.iterations ?? 0),
    extra: metadata.extra,
  };
}

/** Copies of the variables' values, in order (async: WebGPU allows no synchronous read). */
export function readVariables(variables: readonly tf.Variable[]): Promise<Float32Array[]> {
  return Promise.all(variables.map(async (v) => Float32Array.from(await v.data())));
}

/** The state of variables trained in this thread (the mitigation methods), minus the step. */
export async function variablesState(
  variables: readonly tf.Variable[],
  optimizer: StepOptimizer,
  average: WeightAverage | undefined,
): Promise<Pick<RunState, "weights" | "average" | "optimizer">> {
  return {
    weights: await readVariables(variables),
    average: average?.values,
    optimizer: await optimizer.state(),
  };
}

/** Puts a loaded state's weights, average and optimiser moments back. */
export function restoreVariables(
  file: string,
  state: RunState<unknown>,
  variables: readonly tf.Variable[],
  optimizer: StepOptimizer,
  average: WeightAverage | undefined,
): void {
  restoreAverage(file, state, average);
  variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(state.weights[i], v.shape))));
  optimizer.setState(state.optimizer);
}

/** Puts a loaded state's moving average back into `average` (if the run keeps one). */
export function restoreAverage(
  file: string,
  state: RunState<unknown>,
  average: WeightAverage | undefined,
): void {
  if (!average) return;
  const saved = state.average;
  if (!saved) throw new Error(`${file} holds no moving average of the weights for this run`);
  average.values.forEach((values, i) => values.set(saved[i]));
}

/** The shapes of `variables`, in order (what a state file's weights are checked against). */
export function variableShapes(variables: readonly tf.Variable[]): number[][] {
  return variables.map((v) => [...v.shape]);
}
