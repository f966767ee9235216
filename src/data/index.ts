/** Medical datasets: subgroups, targets, synthetic cohorts, real loaders, batches, summaries. */
export {
  defineAttribute,
  intersectAttributes,
  groupOf,
  groupIndex,
  splitGroup,
  resolveAttribute,
  INTERSECTION_SEPARATOR,
  type SensitiveAttribute,
  type GroupAssignment,
} from "./subgroups";
export {
  validateTarget,
  uniformTarget,
  targetFromVector,
  targetToVector,
  proportionsOf,
  TARGET_SUM_TOLERANCE,
  type TargetDistribution,
} from "./targetDistribution";
export {
  chexpertPrompt,
  ham10000Prompt,
  fairGenMedPrompt,
  hamAgeGroup,
  type Ham10000AgeGroup,
  type VisionLevel,
  type CupDiscLevel,
  type RefractiveOutlook,
} from "./prompts";
export type { SampleRecord, MedicalSample, MedicalDataset } from "./medicalSample";
export type { CohortName, CohortDefinition, SubjectLabels } from "./cohorts/cohortDefinition";
export { resolveMix, apportion, type CohortMix } from "./cohorts/cohortMix";
export {
  COHORTS,
  cohortDefinition,
  createSyntheticCohort,
  generateCohort,
  DEFAULT_IMAGE_SIZE,
  type SyntheticCohort,
  type SyntheticCohortOptions,
} from "./cohorts/syntheticCohort";
export { PLEURAL_EFFUSION, CARDIOMEGALY } from "./cohorts/chestRadiograph";
export { MALIGNANT } from "./cohorts/dermoscopy";
export { GLAUCOMA } from "./cohorts/fundus";
export {
  probeCohortLearnability,
  type ProbeOptions,
  type ProbeResult,
  type ProbeTaskResult,
} from "./cohortProbe";
export { renderPreviewGrid, selectPreviewSamples, type PreviewOptions } from "./previewGrid";
