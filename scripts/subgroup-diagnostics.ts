/**
 * Diagnostics of tuned models (e.g. `subgroup-tuning.ts --save`), for the neutral effusion prompt:
 *  - per attribute, the audit's arg-max shares beside the batch mean of the calibrated
 *    probabilities (what Method 2's loss matches), at a 10-step and a 25-step DDIM sampler — do
 *    loss and audit count the same thing?
 *  - within-group FID (project encoder) per sex and per race: generated images the classifier
 *    assigns to a group against real effusion radiographs of that group (held-out cohort draw,
 *    seed 99, 300 per group). Groups with fewer than 20 generated images are left out.
 *
 * Run (after `npm run build`):
 *   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --skipLibCheck --types node scripts/subgroup-diagnostics.ts && \
 *   node dist/scripts/subgroup-diagnostics.js [--n 400] [--seed 5005] model.fdckpt [more.fdckpt …]
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../src/backend";
import type { HeadPrediction } from "../src/classifiers/subgroupClassifier";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { createSyntheticCohort } from "../src/data/cohorts/syntheticCohort";
import { statisticsOfRows, type FeatureMatrix } from "../src/audit/qualityFid";
import type { FeatureStatistics } from "../src/fairness/featureStatistics";
import { frechetDistance } from "../src/fairness/frechetDistance";
import { projectEncoderExtractor } from "../src/features/projectEncoderExtractor";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { generateImages } from "../src/pipeline/textToImage";

const NEUTRAL = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const ATTRIBUTES = ["sex", "race"];
const REAL_PER_GROUP = 300;
const MIN_GROUP_IMAGES = 20;

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** Model files: the arguments that are neither flags nor flag values. */
function modelFiles(): string[] {
  const args = process.argv.slice(2);
  return args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
}

/** Arg-max shares and mean probabilities of one head. */
function sharesOf(head: HeadPrediction): { argmax: number[]; meanProbability: number[] } {
  const k = head.classes.length;
  const n = head.predicted.length;
  const argmax = new Array<number>(k).fill(0);
  const meanProbability = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    argmax[head.predicted[i]] += 1 / n;
    for (let g = 0; g < k; g++) meanProbability[g] += head.probabilities[i * k + g] / n;
  }
  return { argmax, meanProbability };
}

async function main() {
  await useBackend("wasm");
  const n = flag("n", 400);
  const seed = flag("seed", 5005);
  const classifier = SubgroupClassifier.load("models/cxr-classifier.fdckpt");
  const encoder = projectEncoderExtractor(classifier);
  const dimension = encoder.info.dimension;
  const featuresOf = async (images: tf.Tensor4D): Promise<FeatureMatrix> => ({
    values: await encoder.extract(images),
    dimension,
  });

  const real = createSyntheticCohort({ cohort: "cxr", size: 6000, seed: 99 });
  const realStatistics = new Map<string, FeatureStatistics>();
  for (const attribute of ATTRIBUTES) {
    for (const group of classifier.task(attribute).classes) {
      const picked: number[] = [];
      real.records.forEach((r, i) => {
        const wanted = r.labels["Pleural Effusion"] === 1 && r.attributes[attribute] === group;
        if (wanted && picked.length < REAL_PER_GROUP) picked.push(i);
      });
      const pixels = Float32Array.from(
        picked.flatMap((i) => Array.from(real.sampleAt(i).image.data)),
      );
      const images = tf.tensor4d(pixels, [picked.length, real.height, real.width, real.channels]);
      realStatistics.set(`${attribute}:${group}`, statisticsOfRows(await featuresOf(images)));
      images.dispose();
    }
  }

  for (const file of modelFiles()) {
    const model = LatentDiffusionModel.load(file);
    console.log(`== ${file} (${n} images, seed ${seed})`);
    for (const steps of [10, 25]) {
      const images = await generateImages(model, new Array<string>(n).fill(NEUTRAL), {
        seed,
        steps,
      });
      const heads = await classifier.predict(images);
      const features = steps === 25 ? await featuresOf(images) : undefined;
      images.dispose();
      for (const attribute of ATTRIBUTES) {
        const head = heads.find((h) => h.task === attribute) as HeadPrediction;
        const { argmax, meanProbability } = sharesOf(head);
        const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join("/");
        let line = `${steps} steps ${attribute} (${head.classes.join("/")}): arg-max ${fmt(argmax)}, mean probability ${fmt(meanProbability)}`;
        if (features) {
          const fids = head.classes.map((group, g) => {
            const members: number[] = [];
            head.predicted.forEach((p, i) => p === g && members.push(i));
            if (members.length < MIN_GROUP_IMAGES) return `${group} – (${members.length})`;
            const real = realStatistics.get(`${attribute}:${group}`);
            if (!real) throw new Error(`no real statistics for ${attribute} ${group}`);
            const distance = frechetDistance(statisticsOfRows(features, members), real).distance;
            return `${group} ${distance.toFixed(0)} (${members.length})`;
          });
          line += `; group FID ${fids.join(", ")}`;
        }
        console.log(line);
      }
    }
    model.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
