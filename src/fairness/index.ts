/** Fairness metrics: representation, intervals, error-aware estimates, FID, equity scaling. */
export * from "./interval";
export * from "./representationMetrics";
export * from "./bootstrap";
export * from "./wilsonInterval";
export { normalQuantile } from "./normalQuantile";
export * from "./confusionMatrix";
export { projectOntoSimplex } from "./simplexProjection";
export * from "./errorAwareProportions";
export { symmetricEigen, symmetricEigenvalues, type SymmetricEigen } from "./symmetricEigen";
export * from "./featureStatistics";
export * from "./frechetDistance";
export * from "./featureMatrix";
export * from "./kernelInceptionDistance";
export * from "./auc";
export * from "./metricFrame";
export * from "./equityScaled";
