/**
 * Runs a training preset end to end: build the (biased) cohort, train the autoencoder, then the
 * denoiser, and save the model with its recipe. Resumable: stage 1's model and stage 2's state
 * are kept beside the output and picked up by a re-run with the same preset.
 */
import * as fs from "node:fs";
import { cohortDefinition, createSyntheticCohort } from "../data/cohorts/syntheticCohort";
import { createRng } from "../util/random";
import { LatentDiffusionModel } from "./latentDiffusionModel";
import type { TrainingPreset } from "./presets";
import { autoencoderTraining } from "./trainAutoencoder";
import { denoiserTraining, type TrainingExample } from "./trainDenoiser";
import type { TrainingEvent, TrainingSummary } from "./trainingEvents";

export interface PresetRunOptions {
  out: string;
  replicas?: number;
  signal?: AbortSignal;
  /** Overrides for quick runs (tests, demos). */
  autoencoderSteps?: number;
  denoiserSteps?: number;
  cohortSize?: number;
  onEvent?: (stage: "autoencoder" | "denoiser", event: TrainingEvent) => void;
}

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

async function drive(
  run: AsyncGenerator<TrainingEvent, TrainingSummary>,
  onEvent: (event: TrainingEvent) => void,
): Promise<TrainingSummary> {
  let result = await run.next();
  while (!result.done) {
    onEvent(result.value);
    result = await run.next();
  }
  return result.value;
}

export async function trainPreset(
  preset: TrainingPreset,
  options: PresetRunOptions,
): Promise<LatentDiffusionModel> {
  const examples = presetExamples(preset, options.cohortSize);
  const stage1 = `${options.out}.stage1.fdckpt`;
  const stateFile = `${options.out}.state.fdckpt`;
  let model: LatentDiffusionModel;
  if (fs.existsSync(stage1)) {
    model = LatentDiffusionModel.load(stage1);
  } else {
    model = LatentDiffusionModel.create(
      presetVocabularyPrompts(preset, options.cohortSize),
      preset.model,
      preset.modelSeed,
    );
    const summary = await drive(
      autoencoderTraining(model, examples, {
        steps: options.autoencoderSteps ?? preset.autoencoder.steps,
        batchSize: preset.autoencoder.batchSize,
        learningRate: preset.autoencoder.learningRate,
        seed: preset.trainingSeed,
        replicas: options.replicas,
        signal: options.signal,
      }),
      (e) => options.onEvent?.("autoencoder", e),
    );
    if (summary.aborted) return model;
    await model.save(stage1);
  }
  const summary = await drive(
    denoiserTraining(model, examples, {
      steps: options.denoiserSteps ?? preset.denoiser.steps,
      batchSize: preset.denoiser.batchSize,
      learningRate: preset.denoiser.learningRate,
      promptDropout: preset.denoiser.promptDropout,
      emaDecay: preset.denoiser.emaDecay,
      seed: preset.trainingSeed,
      replicas: options.replicas,
      signal: options.signal,
      stateFile,
      checkpointEvery: 200,
    }),
    (e) => options.onEvent?.("denoiser", e),
  );
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
    complete: !summary.aborted,
  };
  if (!summary.aborted) await model.save(options.out);
  return model;
}
