/** `fairdiff sample`: generate images for a prompt and write them as one PNG grid. */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import * as path from "node:path";
import type { Command } from "commander";
import { useBackend } from "../../backend";
import { encodePng } from "../../io/imageCodec";
import { rastersFromBatch, tileImages } from "../../io/imageGrid";
import { writeFileAtomic } from "../../io/atomicWrite";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { generateImages } from "../../pipeline/textToImage";
import { ProgressBar } from "../progressBar";

/** The model shipped in the package. */
export const DEFAULT_MODEL = path.resolve(__dirname, "../../../../models/cxr-mini.fdckpt");

export function registerSampleCommand(program: Command): void {
  program
    .command("sample")
    .description("generate images for a prompt and write a PNG grid")
    .requiredOption(
      "--prompt <text>",
      'e.g. "Chest Radiography image of a Female White patient diagnosed with Pleural Effusion"',
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
      const n = Number(opts.n);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`--n must be a positive integer, got "${opts.n}"`);
      await useBackend(opts.backend as BackendRequest | undefined);
      const model = LatentDiffusionModel.load(opts.model);
      const unknown = model.tokenizer.unknownWords(opts.prompt);
      if (unknown.length > 0)
        console.error(`note: words the model never saw in training: ${unknown.join(", ")}`);
      const bar = new ProgressBar("sampling", n);
      const images = await generateImages(model, new Array<string>(n).fill(opts.prompt), {
        seed: Number(opts.seed),
        steps: Number(opts.steps),
        guidanceScale: Number(opts.guidance),
        onProgress: (done) => bar.update(done),
      });
      const rasters = rastersFromBatch((await images.data()) as Float32Array, images.shape);
      images.dispose();
      writeFileAtomic(opts.out, encodePng(tileImages(rasters, { scale: Number(opts.scale) })));
      console.error(`wrote ${opts.out} (${n} images)`);
      model.dispose();
    });
}
