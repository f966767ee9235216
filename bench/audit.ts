/**
 * Audit throughput on the shipped cxr-mini model and classifier (`npm run bench -- audit`):
 *   - end to end: `runAudit` over the default neutral prompts (generate + classify + metrics,
 *     sex × race intersection, 2000 bootstrap resamples), images/s;
 *   - the same work split by stage on one prompt: generation, classification, metrics;
 *   - the quality audit's own work on held-out real images: feature extraction (the project
 *     encoder and radiomics), images/s, and the Fréchet distances (overall + per group), ms.
 * No peer runs the same audit, so this prints throughput and shares of the time, with the machine
 * and load average as the fid bench does (a shared machine makes single timings noisy).
 *
 *   npm run bench -- audit [--n 64] [--steps 25] [--real 256] [--backend auto]
 */
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { attributeRepresentation } from "../src/audit/attributeRepresentation";
import { fidOfRows, type FeatureMatrix } from "../src/audit/qualityFid";
import { heldOutRealSamples } from "../src/audit/qualityImageSet";
import { runAudit } from "../src/audit/runAudit";
import { describeBackend, useBackend, backendInfo } from "../src/backend";
import type { BackendRequest } from "../src/backend/backendInfo";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { DEFAULT_AUDIT_PROMPTS, DEFAULT_REAL_SEED } from "../src/cli/commands/audit";
import type { FeatureExtractor } from "../src/features/featureExtractor";
import { shippedModelPath } from "../src/features/packageRoot";
import { projectEncoderExtractor } from "../src/features/projectEncoderExtractor";
import { radiomicExtractor } from "../src/features/radiomicExtractor";
import { imageBatch } from "../src/audit/qualityImageSet";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { generateImages } from "../src/pipeline/textToImage";

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
}

const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(" ");

async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function rate(count: number, seconds: number): string {
  return `${(count / seconds).toFixed(2)} images/s`;
}

async function extractionRate(
  extractor: FeatureExtractor,
  images: tf.Tensor4D,
): Promise<{ seconds: number; features: FeatureMatrix }> {
  const n = images.shape[0];
  const { value, seconds } = await timed(async () => {
    const values = new Float64Array(n * extractor.info.dimension);
    for (let start = 0; start < n; start += 64) {
      const count = Math.min(64, n - start);
      const batch = images.slice([start, 0, 0, 0], [count, -1, -1, -1]) as tf.Tensor4D;
      values.set(await extractor.extract(batch), start * extractor.info.dimension);
      batch.dispose();
    }
    return values;
  });
  return { seconds, features: { values: value, dimension: extractor.info.dimension } };
}

export async function main(args: string[]): Promise<void> {
  const n = Number(option(args, "n", "64"));
  const steps = Number(option(args, "steps", "25"));
  const realCount = Number(option(args, "real", "256"));
  await useBackend(option(args, "backend", "auto") as BackendRequest);
  const modelFile = shippedModelPath("cxr-mini.fdckpt");
  const classifierFile = shippedModelPath("cxr-classifier.fdckpt");
  const model = LatentDiffusionModel.load(modelFile);
  const classifier = SubgroupClassifier.load(classifierFile);
  const prompts = [...DEFAULT_AUDIT_PROMPTS];
  console.log(
    `Audit throughput, cxr-mini: ${prompts.length} prompts × ${n} images, DDIM ${steps} steps, guidance 3; quality on ${realCount} real images`,
  );
  console.log(
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}; load average ${load()} (shared: timings are noisy)`,
  );
  console.log(describeBackend(backendInfo()).split("\n")[0]);

  // 1. End to end, as `fairdiff audit` runs it (representation only).
  const endToEnd = await timed(() =>
    runAudit(model, classifier, {
      prompts,
      imagesPerPrompt: n,
      seed: 0,
      intersections: [["sex", "race"]],
      generation: { steps },
      modelFile,
      classifierFile,
    }),
  );
  const total = prompts.length * n;
  console.log(
    `end to end (runAudit): ${endToEnd.seconds.toFixed(1)} s, ${rate(total, endToEnd.seconds)}`,
  );

  // 2. The same work by stage, one prompt.
  const generation = await timed(() =>
    generateImages(model, new Array<string>(n).fill(prompts[0]), { seed: 0, steps }),
  );
  const images = generation.value;
  const classify = await timed(() => classifier.predict(images));
  images.dispose();
  const heads = classify.value;
  const metrics = await timed(() =>
    heads
      .filter((h) => classifier.task(h.task).kind === "attribute")
      .map((h) =>
        attributeRepresentation({
          attribute: h.task,
          groups: h.classes,
          predicted: h.predicted,
          probabilities: h.probabilities,
          target: h.classes.map(() => 1 / h.classes.length),
          confusion: classifier.evaluation.find((e) => e.task === h.task)?.confusion,
          seed: 1,
          resamples: 2000,
        }),
      ),
  );
  const stageTotal = generation.seconds + classify.seconds + metrics.seconds;
  for (const [name, t] of [
    ["generate", generation.seconds],
    ["classify", classify.seconds],
    ["metrics ", metrics.seconds],
  ] as const) {
    console.log(
      `  ${name} ${(t * 1000).toFixed(0).padStart(7)} ms  ${rate(n, t).padStart(18)}  ${((100 * t) / stageTotal).toFixed(1).padStart(5)} % of the stages`,
    );
  }

  // 3. Quality audit: feature extraction and Fréchet distances on held-out real images.
  const real = heldOutRealSamples(CXR_MINI, { size: realCount, seed: DEFAULT_REAL_SEED });
  const realImages = imageBatch(
    real.map((s) => s.image),
    0,
    real.length,
  );
  const half = Math.floor(realCount / 2);
  for (const extractor of [
    projectEncoderExtractor(SubgroupClassifier.load(classifierFile)),
    radiomicExtractor(),
  ]) {
    const { seconds, features } = await extractionRate(extractor, realImages);
    // Fréchet: the first half of the images against the second, overall and per sex and race.
    const rowsOf = (from: number, to: number, keep: (i: number) => boolean) =>
      Array.from({ length: to - from }, (_, k) => from + k).filter(keep);
    const fid = await timed(() => {
      const figures = [
        fidOfRows(
          features,
          rowsOf(0, half, () => true),
          features,
          rowsOf(half, realCount, () => true),
        ),
      ];
      for (const attribute of ["sex", "race"]) {
        for (const group of new Set(real.map((s) => s.attributes[attribute]))) {
          const inGroup = (i: number) => real[i].attributes[attribute] === group;
          figures.push(
            fidOfRows(
              features,
              rowsOf(0, half, inGroup),
              features,
              rowsOf(half, realCount, inGroup),
            ),
          );
        }
      }
      return figures;
    });
    console.log(
      `quality, ${extractor.info.name} (d = ${extractor.info.dimension}): features ${rate(realCount, seconds)}; ${fid.value.length} Fréchet distances ${(fid.seconds * 1000).toFixed(1)} ms (${((fid.seconds * 1000) / fid.value.length).toFixed(2)} ms each)`,
    );
    extractor.dispose();
  }
  realImages.dispose();
  console.log(
    `(the quality audit also generates one image per real image: at the rate above, ${(realCount / (n / generation.seconds)).toFixed(0)} s for ${realCount}); load average now ${load()}`,
  );
  model.dispose();
  classifier.dispose();
}
