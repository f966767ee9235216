/**
 * Runs a training preset end to end: build the (biased) cohort, train the autoencoder, then the
 * denoiser, and save the model with its recipe. Resumable: each stage keeps its state file beside
 * the output (written every few hundred steps, at its end and on abort) and a re-run with the same
 * settings picks up where it stopped — a finished autoencoder stage is restored, not retrained. A
 * stage file written with other settings (another cohort size, step count, …) is refused, naming
 * the differences, unless `restart` discards the stage files first.
 */
import * as fs from "node:fs";
import { cohortDefinition, createSyntheticCohort } from "../data/cohorts/syntheticCohort";
import { createRng } from "../util/random";
import { LatentDiffusionModel } from "./latentDiffusionModel";
import type { TrainingPreset } from "./presets";
import { StaleRunStateError, type RunSettings } from "./runState";
import { autoencoderTraining } from "./trainAutoencoder";
import { denoiserTraining, type TrainingExample } from "./trainDenoiser";
import type { TrainingEvent, TrainingSummary } from "./trainingEvents";

export type PresetStage = "autoencoder" | "denoiser";

export interface PresetRunOptions {
  out: string;
  replicas?: number;
  signal?: AbortSignal;
  /** Overrides for quick runs (tests, demos). */
  autoencoderSteps?: number;
  denoiserSteps?: number;
  cohortSize?: number;
  /**
   * Delete the stage files an earlier run left beside `out` and train both stages anew (default:
   * resume from them; files written with other settings are refused).
   */
  restart?: boolean;
  onEvent?: (stage: PresetStage, event: TrainingEvent) => void;
}

/**
 * What an unfinished run (`model.info.complete` false) left to resume from, as
 * `model.info.savedState`; absent when nothing is saved yet (stopped before its first step).
 */
export interface PresetSavedState {
  stage: PresetStage;
  file: string;
  /** Steps of that stage the file holds. */
  step: number;
}

/** The state files a preset run keeps beside its output, one per stage. */
export function presetStageFiles(out: string): Record<PresetStage, string> {
  return { autoencoder: `${out}.stage1.state.fdckpt`, denoiser: `${out}.state.fdckpt` };
}

/** Steps between stage-file writes (each stage also writes at its end and on abort). */
const CHECKPOINT_EVERY = 200;

/** What a refusal of a stage file suggests (the train command's flags). */
const TRAIN_RESTART_ADVICE = "Re-run with --restart to start over, or write to another --out.";

function presetCohort(preset: TrainingPreset, size: number) {
  return createSyntheticCohort({
    cohort: preset.cohort,
    size,
    seed: preset.cohortSeed,
    imageSize: preset.model.imageSize,
    mix: preset.mix,
  });
}

/** The cohort's full captions: the model's vocabulary is built from these, dropout or not. */
export function presetVocabularyPrompts(
  preset: TrainingPreset,
  size = preset.cohortSize,
): string[] {
  return presetCohort(preset, size).records.map((r) => r.prompt);
}

export function presetExamples(
  preset: TrainingPreset,
  size = preset.cohortSize,
): TrainingExample[] {
  const cohort = presetCohort(preset, size);
  const definition = cohortDefinition(preset.cohort);
  const dropout = preset.denoiser.captionAttributeDropout ?? {};
  for (const [attribute, p] of Object.entries(dropout)) {
    if (!definition.attributes.some((a) => a.name === attribute) || !(p >= 0 && p <= 1)) {
      throw new Error(
        `captionAttributeDropout: "${attribute}" → ${p} is not an attribute of the ${preset.cohort} cohort with a probability in [0, 1]`,
      );
    }
  }
  const rng = createRng(preset.cohortSeed).fork("caption-dropout");
  return cohort.records.map((record, i) => {
    const sample = cohort.sampleAt(i);
    const attributes = { ...record.attributes };
    let dropped = false;
    for (const [attribute, p] of Object.entries(dropout)) {
      if (rng.next() < p) {
        delete attributes[attribute];
        dropped = true;
      }
    }
    const prompt = dropped
      ? definition.prompt({ attributes, labels: record.labels }, record.details)
      : sample.prompt;
    return { image: sample.image, prompt };
  });
}

/**
 * Runs one stage to its end or abort, passing its events on; also says what its state file holds
 * afterwards: the last state written, or the one the stage resumed from, or nothing.
 */
async function runStage(
  stage: PresetStage,
  file: string,
  start: () => AsyncGenerator<TrainingEvent, TrainingSummary>,
  onEvent: PresetRunOptions["onEvent"],
): Promise<{ summary: TrainingSummary; saved: PresetSavedState | undefined }> {
  // The stage refuses (throws) a file it cannot resume: one found here and not refused is resumed.
  const resumed = fs.existsSync(file);
  const run = start();
  let saved: PresetSavedState | undefined;
  let result = await run.next();
  while (!result.done) {
    const event = result.value;
    if (event.kind === "checkpoint") saved = { stage, file: event.file, step: event.step };
    onEvent?.(stage, event);
    result = await run.next();
  }
  const summary = result.value;
  if (!saved && resumed) saved = { stage, file, step: summary.stepsDone };
  return { summary, saved };
}

export async function trainPreset(
  preset: TrainingPreset,
  options: PresetRunOptions,
): Promise<LatentDiffusionModel> {
  const files = presetStageFiles(options.out);
  if (options.restart) for (const file of Object.values(files)) fs.rmSync(file, { force: true });
  const examples = presetExamples(preset, options.cohortSize);
  // Named in a refusal beside the fingerprints of the model and images they shaped.
  const callerSettings: RunSettings = { preset: preset.name, "cohort size": examples.length };
  const model = LatentDiffusionModel.create(
    presetVocabularyPrompts(preset, options.cohortSize),
    preset.model,
    preset.modelSeed,
  );
  const unfinished = (saved: PresetSavedState | undefined) => {
    model.info = { ...model.info, preset: preset.name, complete: false, savedState: saved };
    return model;
  };
  try {
    const autoencoder = await runStage(
      "autoencoder",
      files.autoencoder,
      () =>
        autoencoderTraining(model, examples, {
          steps: options.autoencoderSteps ?? preset.autoencoder.steps,
          batchSize: preset.autoencoder.batchSize,
          learningRate: preset.autoencoder.learningRate,
          seed: preset.trainingSeed,
          replicas: options.replicas,
          signal: options.signal,
          stateFile: files.autoencoder,
          checkpointEvery: CHECKPOINT_EVERY,
          callerSettings,
        }),
      options.onEvent,
    );
    if (autoencoder.summary.aborted) return unfinished(autoencoder.saved);
    const denoiser = await runStage(
      "denoiser",
      files.denoiser,
      () =>
        denoiserTraining(model, examples, {
          steps: options.denoiserSteps ?? preset.denoiser.steps,
          batchSize: preset.denoiser.batchSize,
          learningRate: preset.denoiser.learningRate,
          promptDropout: preset.denoiser.promptDropout,
          emaDecay: preset.denoiser.emaDecay,
          seed: preset.trainingSeed,
          replicas: options.replicas,
          signal: options.signal,
          stateFile: files.denoiser,
          checkpointEvery: CHECKPOINT_EVERY,
          callerSettings,
        }),
      options.onEvent,
    );
    // The autoencoder stage is finished and kept: an interrupted run resumes the denoiser.
    if (denoiser.summary.aborted) return unfinished(denoiser.saved ?? autoencoder.saved);
  } catch (error) {
    model.dispose();
    if (!(error instanceof StaleRunStateError)) throw error;
    const stage = error.file === files.autoencoder ? "autoencoder" : "denoiser";
    throw error.reworded(TRAIN_RESTART_ADVICE, `the ${stage} stage's state`);
  }
  model.info = {
    ...model.info,
    preset: preset.name,
    description: preset.description,
    cohort: {
      name: preset.cohort,
      size: examples.length,
      seed: preset.cohortSeed,
      mix: preset.mix,
    },
    complete: true,
  };
  await model.save(options.out);
  return model;
}
