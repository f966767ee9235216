export { DataParallelTrainer, type DataParallelOptions } from "./dataParallelTrainer";
export type { ModelSpec } from "./messages";
export type { OptimizerSpec } from "./optimizerSpec";
export { shardBatch } from "./shardBatch";
