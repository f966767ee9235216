// Classifier guidance at sampling time on the shipped cxr-mini (src/methods/groupGuidance.ts at
// every step of a 10-step DDIM chain, guidance 3, the neutral effusion prompt, 256 images, seed
// 21): what the classifier reads and the FID (project encoder) against the held-out real
// effusion radiographs of the guided-to group (for scale 0: each group the classifier reads
// against its real group). Usage, from this folder with the repository built:
//   node sampling_guidance.js ATTRIBUTE SCALE [SCALE…]     (ATTRIBUTE: ageBand or race)
const tf = require("@tensorflow/tfjs-core");
const f = require("../../../dist/src/index.js");
const { defaultFeatureExtractor } = require("../../../dist/src/features");
const { fidOfRows } = require("../../../dist/src/audit");
const { realEffusion } = require("../2026-12-06-prompted/prompt_fid.js");
const { NEUTRAL_EFFUSION_PROMPT } = require("../../../dist/src/data/cohorts/chestRadiograph");
const { encodeGuidance, guidedNoisePrediction } = require("../../../dist/src/pipeline/guidedSampler");
const { DDIMScheduler } = require("../../../dist/src/schedulers/ddimScheduler");
const { latentsToUnitImages } = require("../../../dist/src/methods/alignmentLoss");
const { groupGuidedPrediction } = require("../../../dist/src/methods/groupGuidance");
const { resolveAlignmentAttributes } = require("../../../dist/src/methods/alignmentAttributes");
const { initialLatents } = require("../../../dist/src/pipeline/textToImage");

const N = 256;
const BATCH = 32;
(async () => {
  await f.useBackend("wasm");
  const [attribute, ...scales] = process.argv.slice(2);
  const model = f.LatentDiffusionModel.load("../../../models/cxr-mini.fdckpt");
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const head = classifier.tasks.findIndex((t) => t.name === attribute);
  const groups = classifier.tasks[head].classes;
  const attributes = resolveAlignmentAttributes(classifier, {
    [attribute]: Object.fromEntries(groups.map((g) => [g, 1 / groups.length])),
  });
  const extractor = defaultFeatureExtractor();
  const { real, realFeatures } = await realEffusion(extractor);
  const all = (n) => Array.from({ length: n }, (_, i) => i);
  const realOf = (g) => all(real.length).filter((i) => real[i].attributes[attribute] === groups[g]);
  const scheduler = new DDIMScheduler({ ...model.config.noise, eta: 0 });
  scheduler.setTimesteps(10);
  const context = encodeGuidance(model.textEncoder, new Array(BATCH).fill(NEUTRAL_EFFUSION_PROMPT));
  for (const scale of scales.map(Number)) {
    for (const target of scale === 0 ? [-1] : all(groups.length)) {
      const guidance = {
        classifier,
        attributes,
        targets: [new Int32Array(BATCH).fill(target)],
        scale,
        schedule: scheduler.schedule,
      };
      const features = new Float32Array(N * extractor.info.dimension);
      const read = [];
      for (let b = 0; b < N; b += BATCH) {
        let z = initialLatents(model, 21, b, BATCH);
        for (const t of scheduler.timesteps) {
          const next = tf.tidy(() => {
            const e = guidedNoisePrediction(model.unet, z, t, context, 3);
            const guided = scale > 0 ? groupGuidedPrediction(guidance, model, z, t, e) : e;
            return scheduler.step(guided, t, z).prevSample;
          });
          z.dispose();
          z = next;
        }
        const images = latentsToUnitImages(model, z);
        z.dispose();
        features.set(await extractor.extract(images), b * extractor.info.dimension);
        read.push(...(await classifier.predict(images))[head].predicted);
        images.dispose();
      }
      const generated = { values: features, dimension: extractor.info.dimension };
      const shares = groups.map((g, k) => `${g} ${((100 * read.filter((p) => p === k).length) / N).toFixed(1)}`);
      const fid =
        scale === 0
          ? groups
              .map((g, k) => {
                const rows = all(N).filter((i) => read[i] === k);
                return `${g} ${rows.length > 2 ? fidOfRows(generated, rows, realFeatures, realOf(k)).value.toFixed(0) : "—"} (${rows.length})`;
              })
              .join(", ")
          : `${groups[target]} ${fidOfRows(generated, all(N), realFeatures, realOf(target)).value.toFixed(0)} (${N})`;
      console.log(`${attribute} scale ${scale}${scale > 0 ? ` toward ${groups[target]}` : ""}: ${shares.join(" / ")} %; FID within group ${fid}`);
    }
  }
})();
