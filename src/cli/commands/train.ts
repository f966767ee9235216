/** `fairdiff train`: train a latent diffusion model from a preset, with progress bars. */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { useBackend, describeBackend } from "../../backend";
import { trainingPreset } from "../../pipeline/presets";
import { trainPreset } from "../../pipeline/trainPreset";
import { ProgressBar } from "../progressBar";

function optionalInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function registerTrainCommand(program: Command): void {
  program
    .command("train")
    .description("train a text-to-medical-image latent diffusion model from a preset (resumable)")
    .option("-p, --preset <name>", "training recipe", "cxr-mini")
    .requiredOption("-o, --out <file>", "model checkpoint to write (.fdckpt)")
    .option("--replicas <n>", "threads training in parallel (default: cores)")
    .option("--autoencoder-steps <n>", "override the preset's autoencoder steps")
    .option("--denoiser-steps <n>", "override the preset's denoiser steps")
    .option("--cohort-size <n>", "override the preset's cohort size")
    .addOption(backendFlag())
    .action(async (opts: Record<string, string | undefined>) => {
      const preset = trainingPreset(opts.preset ?? "cxr-mini");
      console.error(describeBackend(await useBackend(opts.backend as BackendRequest | undefined)));
      console.error(`preset ${preset.name}: ${preset.description}`);
      const controller = new AbortController();
      process.once("SIGINT", () => {
        console.error("\ninterrupted: finishing the current step and saving state…");
        controller.abort();
      });
      const bars: Record<string, ProgressBar> = {};
      const model = await trainPreset(preset, {
        out: opts.out as string,
        replicas: optionalInteger("replicas", opts.replicas),
        autoencoderSteps: optionalInteger("autoencoder-steps", opts.autoencoderSteps),
        denoiserSteps: optionalInteger("denoiser-steps", opts.denoiserSteps),
        cohortSize: optionalInteger("cohort-size", opts.cohortSize),
        signal: controller.signal,
        onEvent: (stage, event) => {
          if (event.kind !== "step") return;
          bars[stage] ??= new ProgressBar(stage.padEnd(11), event.totalSteps);
          bars[stage].update(
            event.step,
            `loss ${event.loss.toFixed(4)} ${event.imagesPerSecond.toFixed(0)} img/s`,
          );
        },
      });
      console.error(
        model.info.complete
          ? `wrote ${opts.out}`
          : "stopped early; re-run the same command to resume",
      );
      model.dispose();
    });
}
