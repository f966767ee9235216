/** Linear warm-up then cosine decay to a floor — the usual diffusion training schedule. */
export interface LearningRateSchedule {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a fraction of the peak (default 0.1). */
  floor?: number;
}

export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const { peak, warmupSteps, totalSteps } = schedule;
  const floor = (schedule.floor ?? 0.1) * peak;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
