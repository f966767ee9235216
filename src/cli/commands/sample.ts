/**
 * `fairdiff sample`: generate images for a prompt and write them as one PNG grid, captioned with
 * the prompt and the settings that drew it.
 */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { useBackend } from "../../backend";
import { shippedModelPath } from "../../features/packageRoot";
import * as path from "node:path";
import { encodePng } from "../../io/imageCodec";
import { withCaption } from "../../io/imageCaption";
import { rastersFromBatch, tileImages } from "../../io/imageGrid";
import { writeFileAtomic } from "../../io/atomicWrite";
import { checkOutputFile } from "../../io/outputPath";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { generateImages } from "../../pipeline/textToImage";
import { checkImageCount } from "../imageBudget";
import { interruptOnCtrlC } from "../interrupt";
import { integerOption, numberOption, SAMPLER_STEP_RANGE, SEED_RANGE } from "../optionValues";
import { ProgressBar } from "../progressBar";
import { NEUTRAL_EFFUSION_PROMPT } from "../../data/cohorts/chestRadiograph";

/** The model shipped in the package. */
export const DEFAULT_MODEL = shippedModelPath("cxr-mini.fdckpt");

/** Bytes one image costs while a grid is built: tensor, raster, the magnified cell, its PNG. */
function gridBytesPerImage(size: number, channels: number, scale: number): number {
  const pixels = size * size * channels;
  return pixels * 4 * 2 + pixels * scale * scale * 5;
}

export function registerSampleCommand(program: Command): void {
  program
    .command("sample")
    .description("generate images for a prompt and write a PNG grid")
    .option(
      "--prompt <text>",
      'e.g. "Chest Radiography image of a Female White patient diagnosed with Pleural Effusion" (default: the neutral prompt finetune and audit debias)',
      NEUTRAL_EFFUSION_PROMPT,
    )
    .option("-m, --model <file>", "model checkpoint", DEFAULT_MODEL)
    .option("-n, --n <count>", "number of images", "16")
    .option("-o, --out <file>", "PNG grid to write", "grid.png")
    .option("--steps <n>", "DDIM steps", "25")
    .option("--guidance <scale>", "classifier-free guidance scale", "3")
    .option("--seed <n>", "seed", "0")
    .option("--scale <n>", "pixel magnification in the grid", "3")
    .addOption(backendFlag())
    .action(async (opts: Record<string, string>) => {
      const n = integerOption("--n", opts.n, { min: 1 });
      const steps = integerOption("--steps", opts.steps, SAMPLER_STEP_RANGE);
      const guidanceScale = numberOption("--guidance", opts.guidance, { min: 0 });
      const seed = integerOption("--seed", opts.seed, SEED_RANGE);
      const scale = integerOption("--scale", opts.scale, { min: 1, max: 32 });
      checkOutputFile("--out", opts.out);
      await useBackend(opts.backend as BackendRequest | undefined);
      const model = LatentDiffusionModel.load(opts.model);
      const interrupt = interruptOnCtrlC("stopping; no grid is written");
      try {
        const { imageSize, imageChannels } = model.config;
        checkImageCount(
          "--n",
          n,
          gridBytesPerImage(imageSize, imageChannels, scale),
          `${imageSize}×${imageSize}×${imageChannels} pixels at --scale ${scale}`,
        );
        for (const note of model.tokenizer.promptNotes(opts.prompt)) console.error(`note: ${note}`);
        const bar = new ProgressBar("sampling", n);
        let images: Awaited<ReturnType<typeof generateImages>>;
        try {
          images = await generateImages(model, new Array<string>(n).fill(opts.prompt), {
            seed,
            steps,
            guidanceScale,
            signal: interrupt.signal,
            onProgress: (done) => bar.update(done),
          });
        } catch (error) {
          if (!interrupt.interrupted) throw error;
          console.error("sampling stopped; nothing written");
          return;
        }
        const rasters = rastersFromBatch((await images.data()) as Float32Array, images.shape);
        images.dispose();
        const caption = [
          `"${opts.prompt}"`,
          `${n} images · seed ${seed} · DDIM ${steps} steps · guidance ${guidanceScale} · ${path.basename(opts.model)}`,
        ];
        writeFileAtomic(opts.out, encodePng(withCaption(tileImages(rasters, { scale }), caption)));
        console.error(`wrote ${opts.out} (${n} images)`);
      } finally {
        interrupt.close();
        model.dispose();
      }
    });
}
