export { tasksFor, classOf, FINDING_CLASSES, type ClassificationTask } from "./classificationTask";
export { SubgroupClassifier, SUBGROUP_CLASSIFIER_KIND } from "./subgroupClassifier";
export type { HeadEvaluation, HeadPrediction, ClassifierMetadata } from "./subgroupClassifier";
export { trainSubgroupClassifier, evaluateClassifier } from "./trainSubgroupClassifier";
export type { ClassifierTrainingOptions, ClassifierSplits } from "./trainSubgroupClassifier";
export { fitTemperature, negativeLogLikelihood } from "./temperatureScaling";
