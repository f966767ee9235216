export {
  DataParallelTrainer,
  type DataParallelOptions,
  type TrainerStepOptions,
  type TrainerStepOutcome,
} from "./dataParallelTrainer";
export type { ModelSpec } from "./messages";
export type { OptimizerSpec, OptimizerState } from "./optimizerSpec";
export { shardBatch } from "./shardBatch";
export { defaultReplicas } from "./defaultReplicas";
export { createReferenceTrainer } from "./referenceTrainer";
export { NonFiniteStepError, type NonFiniteQuantity } from "./nonFiniteStep";
