/** The three bias-mitigation methods, their shared events and the periodic evaluation. */
export * from "./methodEvents";
export * from "./periodicEvaluation";
export {
  targetFromDataset,
  type TargetDataset,
  type TargetFromDatasetOptions,
} from "./targetFromDataset";
export {
  subgroupAlignedTuning,
  resolveHeadTargets,
  type SubgroupAlignedTuningOptions,
  type SubgroupTuningSummary,
  type LoraTarget,
} from "./subgroupAlignedTuning";
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
export { ALIGNMENT_TRAINABLE_KINDS, type AlignmentTrainableKind } from "./alignmentTrainable";
export type { SemanticFeatures } from "./alignmentLoss";
