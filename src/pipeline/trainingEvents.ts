/** Typed events a training loop emits — plain values a CLI, a widget or a test can consume. */
export interface TrainingStepEvent {
  kind: "step";
  /** Steps completed so far (1-based). */
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  /** Global gradient norm before clipping. */
  gradientNorm: number;
  imagesPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface TrainingCheckpointEvent {
  kind: "checkpoint";
  step: number;
  file: string;
}

export type TrainingEvent = TrainingStepEvent | TrainingCheckpointEvent;

export interface TrainingSummary {
  stepsDone: number;
  aborted: boolean;
  finalLoss: number;
}

/** What a finished stage records in the model's `info` (the checkpoint carries it). */
export function stageRecord(summary: TrainingSummary, batchSize: number, seed: number) {
  return { steps: summary.stepsDone, batchSize, seed, finalLoss: summary.finalLoss };
}
