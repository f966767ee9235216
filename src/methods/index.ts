/** The three bias-mitigation methods, the toolkit they share, their events and the periodic evaluation. */
export * from "./methodEvents";
export * from "./periodicEvaluation";
export {
  targetFromDataset,
  type TargetDataset,
  type TargetFromDatasetOptions,
} from "./targetFromDataset";
export {
  subgroupAlignedTuning,
  type SubgroupAlignedTuningOptions,
  type SubgroupTuningSummary,
} from "./subgroupAlignedTuning";
export { resolveAlignmentAttributes, type AlignmentAttribute } from "./alignmentAttributes";
export {
  fairBayesianPerturbation,
  type FairPerturbationOptions,
  type FairPerturbationSummary,
  type LabelledTrainingExample,
} from "./fairBayesianPerturbation";
export { labelledExamples, labelledPresetExamples } from "./labelledExamples";
export {
  groupDenoisingLoss,
  type GroupDenoisingLoss,
  type GroupDenoisingLossOptions,
  type AttributeDenoisingLoss,
} from "./groupDenoisingLoss";
export * from "./perturbationWeights";
export {
  SigmaSearch,
  type SigmaSearchOptions,
  type SigmaSearchState,
  type SigmaUpdate,
} from "./sigmaSearch";
export * from "./gaussianProcess";
export * from "./upperConfidenceBound";
export {
  distributionalAlignment,
  type DistributionalAlignmentOptions,
  type DistributionalAlignmentSummary,
} from "./distributionalAlignment";
export {
  alignmentTargets,
  optimalTransportTargets,
  twoGroupTargets,
  type AlignmentTargets,
} from "./optimalTransportTargets";
export { solveAssignment } from "./hungarianAssignment";
export {
  DdimSamplingChain,
  type ChainDenoiser,
  type ChainGradientMode,
  type ChainGradients,
  type ChainTrace,
} from "./samplingChainGradient";
export { guidedDenoiser } from "./guidedDenoiser";
export {
  ADAPTER_KINDS,
  TrainedAdapters,
  resolveAdapterOptions,
  type AdapterKind,
  type AdapterOptions,
  type AdapterSettings,
} from "./adapters";
export {
  resolveMethodOptions,
  commonRunSettings,
  type MethodOptions,
  type PromptedMethodOptions,
  type MethodDefaults,
  type ResolvedMethodOptions,
  type LearningRateShape,
} from "./methodOptions";
export { MethodOptionError } from "./methodOptionError";
export {
  resolveMethodSampler,
  type MethodSamplerOptions,
  type SamplerSettings,
} from "./methodSampler";
export { targetGetter, type TargetOption } from "./methodTarget";
export { MethodOptimization } from "./methodOptimization";
export { trainMethod, type MethodTraining } from "./methodTraining";
export { runMethod, type MethodRunResult, type RunMethodOptions } from "./runMethod";
export {
  componentAttributes,
  FIX_LABELS,
  FIX_NAMES,
  PRIOR_CAPTION_SOURCES,
  startFix,
  trainingCaptions,
  type FixName,
  type PriorCaptionSource,
  type StartFixOptions,
} from "./startFix";
export type { MethodRunOptions, MethodRunSummary, MethodStepOutcome } from "./methodRunLoop";
export type { SemanticFeatures } from "./alignmentLoss";
