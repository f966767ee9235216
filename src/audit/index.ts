export { attributeRepresentation, pairsFromConfusion } from "./attributeRepresentation";
export type { AttributeRepresentation, RepresentationInput } from "./attributeRepresentation";
export { adherence, namedGroup, type Adherence } from "./promptAdherence";
export { auditRepresentation, promptSeed, requestedFinding } from "./representationAudit";
export type {
  FindingRate,
  PromptRepresentation,
  RepresentationAuditOptions,
} from "./representationAudit";
export { summarizeAdherence, type AdherenceSummary } from "./adherenceSummary";
export { AuditReport, type AuditReportInput, type GroupShareKind } from "./auditReport";
export { compareRepresentation, type ShareChange } from "./reportComparison";
export {
  AUDIT_REPORT_KIND,
  AUDIT_REPORT_MIME,
  AUDIT_REPORT_SCHEMA_VERSION,
  type AuditReportData,
} from "./auditReportSchema";
export { parseAuditReportData } from "./auditReportValidation";
export {
  runAudit,
  type AuditProgress,
  type RunAuditOptions,
  type RunAuditQualityOptions,
} from "./runAudit";
export {
  classifierIdentity,
  fairdiffVersion,
  modelIdentity,
  runEnvironment,
  type ClassifierHeadIdentity,
  type ClassifierIdentity,
  type ModelIdentity,
  type RealDataIdentity,
  type RunManifest,
  type SamplerSettings,
} from "./runManifest";
export { sha256File, sha256Images, sha256Weights } from "./runFingerprints";
export { escapeHtml, escapeMarkdown } from "./reportText";
export { kidScale, kidValue, kidValuesOf, kidWithInterval, type KidScale } from "./kidScale";
export {
  auditQuality,
  type QualityAuditOptions,
  type QualityMemorisationOptions,
  type QualityProgress,
} from "./qualityAudit";
export {
  auditMemorisation,
  calibrateNearCopyThresholds,
  type MemorisationAuditOptions,
  type MemorisationFeatures,
} from "./memorisationAudit";
export type {
  MemorisationAudit,
  MemorisationByAttribute,
  MemorisationGroup,
  MemorisationPair,
} from "./memorisationTypes";
export type {
  ClinicalCorrelation,
  FidFigure,
  GroupQuality,
  KidFigure,
  QualityAudit,
} from "./qualityTypes";
export {
  clinicalCorrelation,
  sharedFindings,
  type ClinicalInput,
  type ClinicalOptions,
} from "./clinicalCorrelation";
export {
  heldOutRealSamples,
  labelledImagesFromPrompts,
  labelledImagesFromSamples,
  labelsFromPrompts,
  presetTrainingImages,
  type HeldOutOptions,
  type LabelledImages,
} from "./qualityImageSet";
export {
  fidOfRows,
  kidOfRows,
  statisticsOfRows,
  type FeatureMatrix,
  type FidBootstrapOptions,
  type KidOptions,
} from "./qualityFid";
export {
  AUDIT_PART_KIND,
  AUDIT_PART_SCHEMA_VERSION,
  type AuditPart,
  type RepresentationBatch,
} from "./auditPart";
export { auditPartToJson, loadAuditPart, parseAuditPart } from "./auditPartJson";
export { auditFingerprint, settingsDifference, type AuditSettings } from "./auditSettings";
export {
  auditUnits,
  parseShard,
  shardUnits,
  WHOLE_AUDIT,
  type AuditShard,
  type AuditUnit,
} from "./auditUnits";
export {
  prepareAudit,
  runAuditShard,
  type PreparedAudit,
  type ShardRunOptions,
} from "./auditShard";
export { checkAuditParts, mergeAuditParts, type MergeOptions } from "./mergeAuditParts";
