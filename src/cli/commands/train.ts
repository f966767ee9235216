/** `fairdiff train`: train a latent diffusion model from a preset, with progress bars. */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { useBackend, describeBackend } from "../../backend";
import { checkOutputFile } from "../../io/outputPath";
import { trainingPreset, type TrainingPreset } from "../../pipeline/presets";
import { imageCountLimit } from "../imageBudget";
import { interruptOnCtrlC } from "../interrupt";
import { optionalInteger, STEP_RANGE } from "../optionValues";
import { trainPreset, type PresetSavedState } from "../../pipeline/trainPreset";
import { ProgressBar } from "../progressBar";

interface TrainOptions {
  preset?: string;
  out: string;
  replicas?: string;
  autoencoderSteps?: string;
  denoiserSteps?: string;
  cohortSize?: string;
  restart?: boolean;
  backend?: BackendRequest;
}

/** A cohort image's bytes while training: the rendered sample and its training copy. */
function cohortImageBytes(preset: TrainingPreset): number {
  const size = preset.model.imageSize ?? 32;
  return size * size * (preset.model.imageChannels ?? 1) * 4 * 2;
}

export function registerTrainCommand(program: Command): void {
  program
    .command("train")
    .description("train a text-to-medical-image latent diffusion model from a preset (resumable)")
    .option("-p, --preset <name>", "training recipe", "cxr-mini")
    .requiredOption("-o, --out <file>", "model checkpoint to write (.fdckpt)")
    .option(
      "--replicas <n>",
      "model replicas training in parallel, one thread each (default: cores, at most 4; 1 on a GPU)",
    )
    .option("--autoencoder-steps <n>", "override the preset's autoencoder steps")
    .option("--denoiser-steps <n>", "override the preset's denoiser steps")
    .option("--cohort-size <n>", "override the preset's cohort size")
    .option("--restart", "start over, replacing stage files written by an earlier run")
    .addOption(backendFlag())
    .action(async (opts: TrainOptions) => {
      const preset = trainingPreset(opts.preset ?? "cxr-mini");
      const out = opts.out;
      const settings = {
        replicas: optionalInteger("--replicas", opts.replicas, { min: 1, max: 256 }),
        autoencoderSteps: optionalInteger("--autoencoder-steps", opts.autoencoderSteps, STEP_RANGE),
        denoiserSteps: optionalInteger("--denoiser-steps", opts.denoiserSteps, STEP_RANGE),
        cohortSize: optionalInteger("--cohort-size", opts.cohortSize, {
          min: 1,
          max: imageCountLimit(cohortImageBytes(preset)),
          maxReason: "the cohort's images are held in memory",
        }),
      };
      checkOutputFile("--out", out);
      console.error(describeBackend(await useBackend(opts.backend)));
      console.error(`preset ${preset.name}: ${preset.description}`);
      const interrupt = interruptOnCtrlC("finishing the current step, then saving state…");
      const bars: Record<string, ProgressBar> = {};
      const model = await trainPreset(preset, {
        out,
        ...settings,
        restart: opts.restart === true,
        signal: interrupt.signal,
        onEvent: (stage, event) => {
          if (event.kind !== "step") return;
          bars[stage] ??= new ProgressBar(stage.padEnd(11), event.totalSteps);
          bars[stage].update(
            event.step,
            `loss ${event.loss.toFixed(4)} ${event.imagesPerSecond.toFixed(0)} img/s`,
          );
        },
      });
      const saved = model.info.savedState as PresetSavedState | undefined;
      console.error(
        model.info.complete
          ? `wrote ${out}`
          : saved
            ? `stopped; state saved to ${saved.file} at step ${saved.step} (${saved.stage} stage): re-run the same command to resume`
            : "stopped before the first step; nothing saved yet",
      );
      interrupt.close();
      model.dispose();
    });
}
