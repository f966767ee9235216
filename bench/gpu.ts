/**
 * GPU benchmark (`npm run bench -- gpu [trainSteps] [batchSizes]`, sizes comma-separated, default
 * 32,256), for a machine with a GPU and the Vulkan
 * loader: the shipped cxr-mini on tfjs WebGPU (Dawn) against its PyTorch twin on CUDA
 * (FAIRDIFF_TWIN_DEVICE=cuda; FAIRDIFF_PYTHON names the Python that has torch with CUDA), in the
 * same run, plus the CPU path on one thread as the laptop baseline (tfjs wasm with fairdiff's native
 * kernels where that machine built them):
 *   - agreement: the same seeded images generated on WebGPU and on wasm (max |Δ pixel|);
 *   - training step (text encoder + UNet forward, backward, AdamW) at each batch size (default 32 and 256);
 *   - sampling (DDIM 25, guidance 3, decode) at the same sizes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, useBackend } from "../src/backend";
import { setNativeThreads } from "../src/backend/nativeKernels/nativeAddon";
import { nativeKernelsActive } from "../src/backend/nativeKernels/registerNativeKernels";
import type { ArrayBatch } from "../src/backend/trainableModel";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { presetVocabularyPrompts } from "../src/pipeline/trainPreset";
import { generateImages } from "../src/pipeline/textToImage";
import {
  prepareTwin,
  samplingOptions,
  tfjsMsPerStep,
  trainingBatch,
  type TwinBench,
} from "./diffusion";
import { twinScript } from "./peers/diffusionTwin";
import { peerHasModules, runPeerJson } from "./peers/python";

const MODEL = path.join(__dirname, "../../models/cxr-mini.fdckpt");

/**
 * Median ms of a training step as `fairdiff train` runs one on a single replica: the replayed
 * gradient step, the global norm and clipping, the checked AdamW update (tfjsMsPerStep).
 */
async function trainStepMs(model: LatentDiffusionModel, batch: ArrayBatch, steps: number) {
  // Two warm-up steps: the first records the replayed step (GPU time is scarce).
  return (await tfjsMsPerStep(model, batch, 1, steps, 2)).wall;
}

async function imagesPerSecond(model: LatentDiffusionModel, prompts: string[]): Promise<number> {
  const options = { ...samplingOptions(), batchSize: prompts.length };
  tf.dispose(await generateImages(model, prompts, { ...options, steps: 2 }));
  const start = performance.now();
  const images = await generateImages(model, prompts, options);
  await images.data();
  images.dispose();
  return prompts.length / ((performance.now() - start) / 1000);
}

async function seededImages(model: LatentDiffusionModel, prompts: string[]): Promise<Float32Array> {
  const images = await generateImages(model, prompts, { ...samplingOptions(), batchSize: 8 });
  const values = (await images.data()) as Float32Array;
  images.dispose();
  return values;
}

export async function main(args: string[]): Promise<void> {
  const steps = Number(args[0] ?? 10);
  const sizes = (args[1] ?? "32,256").split(",").map(Number);
  if (!Number.isInteger(steps) || steps < 1 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(
      `usage: npm run bench -- gpu [trainSteps ≥ 1] [batch sizes, e.g. 32,256]; got ${args.join(" ")}`,
    );
  }
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  const allPrompts = presetVocabularyPrompts(CXR_MINI);
  const probe = allPrompts.slice(0, 8);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-bench-gpu-"));
  try {
    // wasm first: the laptop baseline, the reference images, and the twin's inputs (dataSync).
    console.log(describeBackend(await useBackend("wasm")));
    // One CPU thread: fairdiff's native kernels where this machine built them, else tfjs-wasm's.
    const native = nativeKernelsActive();
    if (native) setNativeThreads(1);
    const cpuLabel = native ? "wasm + native kernels" : "wasm";
    const reference = LatentDiffusionModel.load(MODEL);
    const batches = sizes.map((size) => trainingBatch(reference, allPrompts, size));
    const twins = sizes.map((size) => path.join(dir, `b${size}`));
    for (const [i, size] of sizes.entries()) {
      fs.mkdirSync(twins[i]);
      await prepareTwin(reference, batches[i], allPrompts.slice(0, size), twins[i], 3);
    }
    const onCpu = await seededImages(reference, probe);
    const wasmImagesPerS = await imagesPerSecond(reference, allPrompts.slice(0, sizes[0]));
    const wasmStepMs = await trainStepMs(reference, batches[0], 3);
    reference.dispose();
    console.log(
      `${cpuLabel} (1 CPU thread) batch ${sizes[0]}: ${wasmStepMs.toFixed(1)} ms/step, ${wasmImagesPerS.toFixed(2)} img/s`,
    );

    console.log(describeBackend(await useBackend("webgpu")));
    const model = LatentDiffusionModel.load(MODEL);
    const onGpu = await seededImages(model, probe);
    let maxDiff = 0;
    for (let i = 0; i < onCpu.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(onCpu[i] - onGpu[i]));
    }
    console.log(
      `agreement: 8 seeded images (DDIM 25, guidance 3), max |webgpu − wasm| pixel difference ${maxDiff.toExponential(2)}`,
    );
    const results = [];
    for (const [i, size] of sizes.entries()) {
      const webgpuImagesPerS = await imagesPerSecond(model, allPrompts.slice(0, size));
      const webgpuStepMs = await trainStepMs(model, batches[i], steps);
      results.push({ batch: size, webgpuStepMs, webgpuImagesPerS });
      console.log(
        `webgpu batch ${size}: ${webgpuStepMs.toFixed(1)} ms/step, ${webgpuImagesPerS.toFixed(1)} img/s`,
      );
    }
    model.dispose();

    const torch: (TwinBench | undefined)[] = [];
    process.env.FAIRDIFF_TWIN_DEVICE = process.env.FAIRDIFF_TWIN_DEVICE ?? "cuda";
    if (peerHasModules(["torch", "numpy"])) {
      // A twin that cannot run (no CUDA build, no device) leaves its columns n/a, not the run.
      try {
        for (const twin of twins) {
          torch.push(runPeerJson<TwinBench>(twinScript(), ["bench", twin, String(steps), "1"]));
        }
      } catch (error) {
        const lines = (error as Error).message.trim().split("\n");
        console.log(`PyTorch twin failed: ${lines[lines.length - 1]}`);
      }
    }
    console.log(
      `\ncxr-mini, same run; PyTorch twin (${torch[0]?.torch ?? "missing"}) on ${process.env.FAIRDIFF_TWIN_DEVICE}`,
    );
    console.log("batch  webgpu ms/step  torch ms/step  ratio | webgpu img/s  torch img/s  ratio");
    for (const [i, r] of results.entries()) {
      const t = torch[i];
      const cell = (x: number | undefined, width: number) =>
        (x === undefined ? "n/a" : x.toFixed(1)).padStart(width);
      const ratio = (x: number | undefined) => (x === undefined ? "n/a" : x.toFixed(2)).padStart(5);
      console.log(
        `${String(r.batch).padEnd(5)}  ${cell(r.webgpuStepMs, 14)}  ${cell(t?.ms_per_step, 13)}  ${ratio(t && r.webgpuStepMs / t.ms_per_step)} | ${cell(r.webgpuImagesPerS, 12)}  ${cell(t?.images_per_s, 11)}  ${ratio(t && t.images_per_s / r.webgpuImagesPerS)}`,
      );
    }
    console.log("ratios are tfjs-webgpu time / PyTorch time (goal ≤ 1.0)");
    console.log(
      `webgpu speed-up over ${cpuLabel} (1 thread), batch ${sizes[0]}: training ${(wasmStepMs / results[0].webgpuStepMs).toFixed(1)}×, sampling ${(results[0].webgpuImagesPerS / wasmImagesPerS).toFixed(1)}×`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
