/**
 * Training examples with their group labels, as fair perturbation needs them: from any dataset's
 * samples, or from a training preset (the preset's own captions, with its caption dropout, and
 * the cohort records' true groups — the groups a caption leaves out are still known).
 */
import { createSyntheticCohort } from "../data/cohorts/syntheticCohort";
import type { MedicalSample } from "../data/medicalSample";
import type { TrainingPreset } from "../pipeline/presets";
import { presetExamples } from "../pipeline/trainPreset";
import type { LabelledTrainingExample } from "./fairBayesianPerturbation";

export function labelledExamples(samples: readonly MedicalSample[]): LabelledTrainingExample[] {
  return samples.map((s) => ({ image: s.image, prompt: s.prompt, attributes: s.attributes }));
}

export function labelledPresetExamples(
  preset: TrainingPreset,
  size = preset.cohortSize,
): LabelledTrainingExample[] {
  const examples = presetExamples(preset, size);
  // The same cohort presetExamples renders (same definition, size, seed, mix): records align.
  const cohort = createSyntheticCohort({
    cohort: preset.cohort,
    size,
    seed: preset.cohortSeed,
    imageSize: preset.model.imageSize,
    mix: preset.mix,
  });
  return examples.map((e, i) => ({ ...e, attributes: cohort.records[i].attributes }));
}
