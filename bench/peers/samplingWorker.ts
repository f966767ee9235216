/**
 * worker_threads entry for bench/diffusion.ts's two-thread sampling row: loads a checkpoint on
 * wasm, warms up, then on "go" generates its share of the batch (its own first image index, so
 * the images are those one thread would make) and reports the seconds it took.
 */
import { parentPort, workerData } from "node:worker_threads";
import { useBackend } from "../../src/backend";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { generateImages, type GenerateOptions } from "../../src/pipeline/textToImage";

export interface SamplingWorkerData {
  checkpoint: string;
  prompts: string[];
  options: GenerateOptions;
}

async function run(): Promise<void> {
  const data = workerData as SamplingWorkerData;
  await useBackend("wasm");
  const model = LatentDiffusionModel.load(data.checkpoint);
  // Warm-up: two steps compile every kernel the full run uses.
  (await generateImages(model, data.prompts, { ...data.options, steps: 2 })).dispose();
  parentPort?.postMessage({ kind: "ready" });
  parentPort?.once("message", async () => {
    const start = performance.now();
    const images = await generateImages(model, data.prompts, data.options);
    const seconds = (performance.now() - start) / 1000;
    images.dispose();
    model.dispose();
    parentPort?.postMessage({ kind: "done", seconds });
  });
}

run().catch((error: Error) => parentPort?.postMessage({ kind: "error", message: error.message }));
