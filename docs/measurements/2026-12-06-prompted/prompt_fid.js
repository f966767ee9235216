// FID of the tuned prompt's own images — what `fairdiff audit --quality` does not measure (its
// generated set is one image per held-out caption, which names sex and race). For each model
// given: 256 images of the neutral effusion prompt (seed 21, DDIM 25, guidance 3: the audit's
// images) against the held-out real radiographs with Pleural Effusion (seed 99, the audit's real
// cohort, 2,000 drawn), project encoder; overall and within each race (generated images by the
// classifier's reading, real ones by their label).
// Usage, from this folder with the repository built: node prompt_fid.js base.fdckpt tuned.fdckpt …
// (PROMPT_FID_IMAGES=1024 draws that many images instead of 256: more of each race, so that the
// within-race figures rest on more than the base's ~28 Asian images.)
const tf = require("@tensorflow/tfjs-core");
const f = require("../../../dist/src/index.js");
const { defaultFeatureExtractor } = require("../../../dist/src/features");
const { fidOfRows } = require("../../../dist/src/audit");
const { trainingPreset } = require("../../../dist/src/pipeline/presets");
const { NEUTRAL_EFFUSION_PROMPT } = require("../../../dist/src/data/cohorts/chestRadiograph");

const RACES = ["Asian", "Black", "White"];

/** The audit's real cohort's effusion radiographs (seed 99, 2,000 drawn) and their features. */
async function realEffusion(extractor) {
  const real = f
    .heldOutRealSamples(trainingPreset("cxr-mini"), { size: 2000, seed: 99 })
    .filter((s) => s.labels["Pleural Effusion"] === 1);
  const realImages = tf.tidy(() =>
    tf.stack(real.map((s) => tf.tensor3d(s.image.data, [s.image.height, s.image.width, s.image.channels]))),
  );
  const realFeatures = { values: await extractor.extract(realImages), dimension: extractor.info.dimension };
  realImages.dispose();
  return { real, realFeatures };
}
module.exports = { realEffusion };

if (require.main === module) main();

async function main() {
  await f.useBackend("wasm");
  const extractor = defaultFeatureExtractor();
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const { real, realFeatures } = await realEffusion(extractor);
  const raceHead = classifier.tasks.findIndex((t) => t.name === "race");
  const count = Number(process.env.PROMPT_FID_IMAGES ?? 256);
  for (const file of process.argv.slice(2)) {
    const model = f.LatentDiffusionModel.load(file);
    const images = await f.generateImages(model, new Array(count).fill(NEUTRAL_EFFUSION_PROMPT), {
      seed: 21,
      steps: 25,
      guidanceScale: 3,
    });
    const generated = { values: await extractor.extract(images), dimension: extractor.info.dimension };
    const predicted = (await classifier.predict(images))[raceHead].predicted;
    images.dispose();
    const all = (n) => Array.from({ length: n }, (_, i) => i);
    const parts = [`FID ${fidOfRows(generated, all(count), realFeatures, all(real.length)).value.toFixed(0)}`];
    RACES.forEach((race, g) => {
      const rows = all(count).filter((i) => predicted[i] === g);
      const realRows = all(real.length).filter((i) => real[i].attributes.race === race);
      parts.push(
        rows.length >= 2
          ? `${race} ${fidOfRows(generated, rows, realFeatures, realRows).value.toFixed(0)} (${rows.length} vs ${realRows.length})`
          : `${race} — (${rows.length})`,
      );
    });
    console.log(`${file}: ${parts.join("; ")}`);
    model.dispose();
  }
}
