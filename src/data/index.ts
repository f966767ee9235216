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
  chestFindingsPrompt,
  NO_FINDING,
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
export {
  loadHam10000,
  HAM_MALIGNANT_DX,
  HAM_BENIGN_DX,
  type Ham10000Options,
} from "./loaders/ham10000";
export {
  loadChexpert,
  chexpertAgeBand,
  chexpertRace,
  CHEXPERT_AGE_BANDS,
  type ChexpertOptions,
  type UncertainLabelPolicy,
} from "./loaders/chexpert";
export { loadFairGenMed, fundusArrayToImage, type FairGenMedOptions } from "./loaders/fairGenMed";
export {
  loadCsvImageFolder,
  type CsvImageFolderOptions,
  type AttributeColumn,
  type FindingColumn,
} from "./loaders/csvImageFolder";
export {
  createFileImageDataset,
  readImageFile,
  type FileImageDataset,
  type ImageOptions,
} from "./loaders/fileImageDataset";
export type { SkipReport, SkippedRow } from "./loaders/skipReport";
export { createImageCache, type ImageCache } from "./imageCache";
export { stratifiedSplit, shuffledIndices, stratumOf, type SplitOptions } from "./splits";
export { iterateBatches, stackImages, type ImageBatch, type BatchOptions } from "./batches";
export {
  summarizeDataset,
  formatSummary,
  type DatasetSummary,
  type AttributeSummary,
  type GroupCount,
} from "./summary";
