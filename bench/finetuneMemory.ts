/**
 * Memory of direct fine-tuning through the sampling chain: peak tfjs memory (bytes held by live
 * tensors, sampled at every allocation) of ONE distributional-alignment step on the default model with a 40-step sampler
 * against a 10-step one. Goal: ratio ≤ 1.1 (gradient checkpointing keeps only each step's input
 * latents). For contrast, the same chain gradient recorded on one tape (no checkpointing).
 * Also prints the wall time of each step and the load average (the machine may be shared).
 *
 *   npm run bench -- finetune-memory [--model F] [--classifier F] [--batch 8] [--steps 10,40]
 *                                    [--tape-batch 1]
 */
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../src/backend";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { guidanceBatch, nullPromptEmbedding } from "../src/models/classifierFreeGuidance";
import { distributionalAlignment } from "../src/methods/distributionalAlignment";
import { guidedDenoiser } from "../src/methods/guidedDenoiser";
import { DdimSamplingChain, disposeChainGradients } from "../src/methods/samplingChainGradient";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { initialLatents } from "../src/pipeline/textToImage";

const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const MODELS = path.resolve(__dirname, "../../models");

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
}

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

interface TrackingEngine {
  state: { numBytes: number };
  trackTensor(...args: unknown[]): void;
}

/**
 * Peak of tf.memory().numBytes while `f` runs. tf.profile cannot be used: it takes the peak with
 * Math.max(...kernels), which overflows the call stack on the ~10⁵ kernels of a 40-step chain.
 * So the engine's tensor registration is wrapped for the duration (bench-only instrumentation).
 */
async function peakBytesDuring(f: () => Promise<void> | void): Promise<number> {
  const engine = tf.engine() as unknown as TrackingEngine;
  const track = engine.trackTensor;
  let peak = engine.state.numBytes;
  engine.trackTensor = function (this: TrackingEngine, ...args: unknown[]) {
    track.apply(this, args);
    if (this.state.numBytes > peak) peak = this.state.numBytes;
  };
  try {
    await f();
  } finally {
    engine.trackTensor = track;
  }
  return peak;
}

/** Peak bytes and wall time of one fine-tuning step with an n-step sampler. */
async function alignmentStep(
  modelFile: string,
  classifier: SubgroupClassifier,
  samplerSteps: number,
  batchSize: number,
): Promise<{ peak: number; baseline: number; ms: number }> {
  const model = LatentDiffusionModel.load(modelFile);
  const baseline = tf.memory().numBytes;
  let ms = 0;
  const peak = await peakBytesDuring(async () => {
    const run = distributionalAlignment(model, classifier, {
      steps: 1,
      seed: 1,
      prompts: [PROMPT],
      target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
      batchSize,
      sampler: { steps: samplerSteps },
    });
    const started = performance.now();
    for await (const event of run) {
      if (event.type === "step") ms = performance.now() - started;
    }
  });
  model.dispose();
  return { peak, baseline, ms };
}

/** Peak bytes of the chain gradient alone, checkpointed or on one tape. */
async function chainGradientPeak(
  model: LatentDiffusionModel,
  samplerSteps: number,
  batchSize: number,
  taped: boolean,
): Promise<number> {
  const prompts = new Array<string>(batchSize).fill(PROMPT);
  const cond = model.textEncoder.encode(prompts);
  const uncond = nullPromptEmbedding(model.textEncoder, batchSize);
  const context = guidanceBatch(cond, uncond);
  tf.dispose([cond.embeddings, cond.mask, uncond.embeddings, uncond.mask]);
  const start = initialLatents(model, 1, 0, batchSize);
  const cotangent = tf.onesLike(start);
  const denoiser = guidedDenoiser(model.unet, context.mask, 3);
  const chain = await DdimSamplingChain.create(samplerSteps, model.config.noise);
  const peak = await peakBytesDuring(() => {
    if (taped) {
      disposeChainGradients(
        chain.tapedGradients(
          denoiser,
          start,
          context.embeddings,
          (z0) => tf.sum(tf.mul(z0, cotangent)) as tf.Scalar,
          "adjusted",
        ),
      );
    } else {
      const trace = chain.run(denoiser, start, context.embeddings);
      disposeChainGradients(
        chain.backward(denoiser, trace, context.embeddings, cotangent, "adjusted"),
      );
      tf.dispose([...trace.inputs, trace.output]);
    }
  });
  tf.dispose([start, cotangent, context.embeddings, context.mask]);
  return peak;
}

export async function main(args: string[]): Promise<void> {
  const modelFile = option(args, "model", path.join(MODELS, "cxr-mini.fdckpt"));
  const classifierFile = option(args, "classifier", path.join(MODELS, "cxr-classifier.fdckpt"));
  const batchSize = Number(option(args, "batch", "8"));
  const [few, many] = option(args, "steps", "10,40").split(",").map(Number);
  const backend = await useBackend("auto");
  console.log(`backend ${backend.name}; batch ${batchSize}; model ${modelFile}`);
  const classifier = SubgroupClassifier.load(classifierFile);

  const small = await alignmentStep(modelFile, classifier, few, batchSize);
  const large = await alignmentStep(modelFile, classifier, many, batchSize);
  const row = (steps: number, r: typeof small) =>
    `  ${String(steps).padStart(3)} sampler steps: peak ${megabytes(r.peak)} (live before the step: ${megabytes(r.baseline)}), ${(r.ms / 1000).toFixed(1)} s for the step`;
  console.log("one distributional-alignment step (adjusted gradient, checkpointed):");
  console.log(row(few, small));
  console.log(row(many, large));
  const ratio = large.peak / small.peak;
  console.log(
    `  peak ratio ${many}/${few} steps: ${ratio.toFixed(3)} (goal ≤ 1.1: ${ratio <= 1.1 ? "met" : "NOT met"})`,
  );

  // One tape through a 40-step chain at batch 8 needs more than wasm32's 4 GB heap: compare
  // the chain gradient alone at a small batch.
  const tapeBatch = Number(option(args, "tape-batch", "1"));
  const model = LatentDiffusionModel.load(modelFile);
  console.log(`the chain gradient alone (batch ${tapeBatch}):`);
  for (const taped of [false, true]) {
    const a = await chainGradientPeak(model, few, tapeBatch, taped);
    const b = await chainGradientPeak(model, many, tapeBatch, taped);
    console.log(
      `  ${taped ? "one tape (no checkpointing)" : "checkpointed              "}: ${few} steps ${megabytes(a)}, ${many} steps ${megabytes(b)}, ratio ${(b / a).toFixed(2)}`,
    );
  }
  model.dispose();
  classifier.dispose();
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on ${os.cpus().length} cores`,
  );
}
