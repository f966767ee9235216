/**
 * fairdiff: study and fix subgroup bias in text-to-medical-image diffusion models.
 *
 * The root holds what a notebook uses: a backend, data, the model and classifier, the audit and
 * its report, the three methods and the figures. Everything else is one subpath away (see
 * package.json "exports"): fairdiff/audit, /backend, /classifiers, /data, /fairness, /features,
 * /io, /methods, /models, /parallel, /pipeline, /schedulers, /study, /util.
 */
export { useBackend, backendInfo } from "./backend";
export { createRng, type Rng } from "./util/random";

// Data: cohorts, prompts, targets, real-dataset loaders and summaries.
export {
  createSyntheticCohort,
  chexpertPrompt,
  chestFindingsPrompt,
  defineAttribute,
  validateTarget,
  summarizeDataset,
  formatSummary,
  loadChexpert,
  loadHam10000,
  loadFairGenMed,
  type MedicalDataset,
  type MedicalSample,
  type SensitiveAttribute,
  type TargetDistribution,
} from "./data";

// The model: load or train it, and generate.
export {
  LatentDiffusionModel,
  generateImages,
  autoencoderTraining,
  denoiserTraining,
  CXR_MINI,
  type GenerateOptions,
} from "./pipeline";
export type { CheckpointSource } from "./pipeline/pretrainedSource";
export { SubgroupClassifier, trainSubgroupClassifier, tasksFor } from "./classifiers";

// The audit and its report.
export {
  runAudit,
  AuditReport,
  auditRepresentation,
  auditQuality,
  heldOutRealSamples,
  presetTrainingImages,
  type RunAuditOptions,
  type QualityAudit,
  type GroupShareKind,
  type ShareChange,
} from "./audit";
export {
  shenBias,
  wilsonInterval,
  errorAwareProportions,
  type Interval,
  type GroupIntervals,
} from "./fairness";

// The three methods, and what notebook 03 measures them with.
export {
  runMethod,
  distributionalAlignment,
  trainingCaptions,
  fairBayesianPerturbation,
  subgroupAlignedTuning,
  targetFromDataset,
  groupDenoisingLoss,
  labelledExamples,
  labelledPresetExamples,
  type MethodEvent,
  type MethodRunResult,
  type GroupDenoisingLoss,
} from "./methods";

// Figures that survive export to HTML, and stand-ins in the real datasets' formats.
export {
  imageGridPng,
  shareBarChartSvg,
  lineChartSvg,
  staticFigure,
  writeChexpertFormat,
  writeHam10000Format,
  writeFairGenMedFormat,
  compareFixes,
} from "./study";
