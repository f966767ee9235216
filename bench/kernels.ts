/**
 * `npm run bench -- kernels [--backend wasm] [--batch 8]`: tfjs kernels per step of the three
 * loops everything runs on, counted with tf.profile through the public API on the shipped
 * cxr-mini architecture:
 *   - a denoiser training step (denoiserTraining, one replica);
 *   - a sampling step: one classifier-free-guided UNet evaluation (DDIM), the difference between
 *     generating with 2 and with 1 sampler steps;
 *   - a Method 1 alignment step (distributionalAlignment, its default sampler steps).
 * Prints the count and the ten most frequent kernels of each (on WebGPU, also the compute
 * dispatches they encode); the goal is ≤ 2,000 kernels per training step (9,632 before the fused
 * kernels).
 */
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, useBackend, type BackendRequest } from "../src/backend";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { shippedModelPath } from "../src/features";
import { distributionalAlignment } from "../src/methods/distributionalAlignment";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { generateImages } from "../src/pipeline/textToImage";
import { denoiserTraining } from "../src/pipeline/trainDenoiser";
import { presetExamples } from "../src/pipeline/trainPreset";

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}

export interface KernelCount {
  total: number;
  byKernel: Map<string, number>;
  /** On WebGPU, the compute dispatches those kernels encoded (what a GPU pays per op for). */
  dispatches?: number;
}

/**
 * Compute dispatches `f` encodes on the WebGPU backend, or undefined on another: tfjs-webgpu
 * and fairdiff's own kernels (encodeDispatch.ts) create one bind group per dispatch.
 */
export async function countWebgpuDispatches(
  f: () => Promise<unknown>,
): Promise<{ dispatches?: number }> {
  if (tf.getBackend() !== "webgpu") {
    await f();
    return {};
  }
  type CreateBindGroup = (this: unknown, ...args: unknown[]) => unknown;
  const device = (tf.backend() as unknown as { device: { createBindGroup: CreateBindGroup } })
    .device;
  const createBindGroup = device.createBindGroup;
  let dispatches = 0;
  device.createBindGroup = function (...args) {
    dispatches++;
    return createBindGroup.apply(this, args);
  };
  try {
    await f();
  } finally {
    device.createBindGroup = createBindGroup;
  }
  return { dispatches };
}

/** Kernels run by `f` (kernels nested inside a kernel, e.g. a fused one's parts, not counted). */
export async function countKernels(f: () => Promise<unknown>): Promise<KernelCount> {
  let dispatches: number | undefined;
  const profile = await tf.profile(async () => {
    ({ dispatches } = await countWebgpuDispatches(f));
    return tf.scalar(0);
  });
  const byKernel = new Map<string, number>();
  for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + 1);
  return { total: profile.kernels.length, byKernel, dispatches };
}

function difference(a: KernelCount, b: KernelCount): KernelCount {
  const byKernel = new Map<string, number>();
  for (const [name, n] of a.byKernel) byKernel.set(name, n - (b.byKernel.get(name) ?? 0));
  const dispatches =
    a.dispatches !== undefined && b.dispatches !== undefined
      ? a.dispatches - b.dispatches
      : undefined;
  return { total: a.total - b.total, byKernel, dispatches };
}

function report(label: string, count: KernelCount): void {
  const top = [...count.byKernel.entries()]
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 10)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  const dispatches =
    count.dispatches === undefined
      ? ""
      : ` (${count.dispatches.toLocaleString("en")} WebGPU dispatches)`;
  console.log(`${label}: ${count.total.toLocaleString("en")} kernels${dispatches}`);
  console.log(`  most frequent: ${top}`);
}

export async function main(args: string[]): Promise<void> {
  const backend = option(args, "backend", "wasm") as BackendRequest;
  const batch = Number(option(args, "batch", "8"));
  console.log(describeBackend(await useBackend(backend)));
  const examples = presetExamples(CXR_MINI, 64);
  const model = LatentDiffusionModel.load(shippedModelPath("cxr-mini.fdckpt"));

  // Training: the second step (the first builds optimizer state).
  const training = denoiserTraining(model, examples, {
    steps: 3,
    seed: 1,
    batchSize: batch,
    replicas: 1,
  });
  await training.next();
  report(
    `denoiser training step (batch ${batch}, 1 replica)`,
    await countKernels(() => training.next()),
  );
  await training.return(undefined as never);

  const prompts = examples.slice(0, batch).map((e) => e.prompt);
  const generate = (steps: number) => async () =>
    tf.dispose(await generateImages(model, prompts, { seed: 0, steps, guidanceScale: 3 }));
  await generate(1)();
  report(
    `sampling step (one guided UNet evaluation, batch ${batch})`,
    difference(await countKernels(generate(2)), await countKernels(generate(1))),
  );

  const classifier = SubgroupClassifier.load(shippedModelPath("cxr-classifier.fdckpt"));
  const alignment = distributionalAlignment(model, classifier, {
    steps: 3,
    seed: 1,
    prompts: ["Chest Radiography image of a patient diagnosed with Pleural Effusion"],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: batch,
  });
  // Past the start-of-run evaluation to the first step, then count the second.
  for (let event = await alignment.next(); !event.done; event = await alignment.next()) {
    if (event.value.type === "step") break;
  }
  report(
    `Method 1 alignment step (batch ${batch}, default sampler steps)`,
    await countKernels(async () => {
      for (let event = await alignment.next(); !event.done; event = await alignment.next()) {
        if (event.value.type === "step") return;
      }
    }),
  );
  await alignment.return(undefined as never);
  classifier.dispose();
  model.dispose();
}
