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
