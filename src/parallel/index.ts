export {
  DataParallelTrainer,
  type DataParallelOptions,
  type StepOptions,
  type StepOutcome,
} from "./dataParallelTrainer";
export type { ModelSpec } from "./messages";
export type { OptimizerSpec, OptimizerState } from "./optimizerSpec";
export { shardBatch } from "./shardBatch";
