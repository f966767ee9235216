/** Builds a scheduler by name, so configs and CLIs can pick one with a string. */
import { DDIMScheduler, type DdimConfig } from "./ddimScheduler";
import { DDPMScheduler, type DdpmConfig } from "./ddpmScheduler";
import { DPMSolverMultistepScheduler, type DpmSolverConfig } from "./dpmSolverMultistepScheduler";
import type { Scheduler } from "./scheduler";

export type SchedulerName = "ddpm" | "ddim" | "dpm-solver++";

export type AnySchedulerConfig = Partial<DdpmConfig & DdimConfig & DpmSolverConfig>;

export function createScheduler(name: SchedulerName, config: AnySchedulerConfig = {}): Scheduler {
  switch (name) {
    case "ddpm":
      return new DDPMScheduler(config);
    case "ddim":
      return new DDIMScheduler(config);
    case "dpm-solver++":
      return new DPMSolverMultistepScheduler(config);
    default:
      throw new Error(`unknown scheduler "${String(name)}": expected ddpm, ddim or dpm-solver++`);
  }
}
