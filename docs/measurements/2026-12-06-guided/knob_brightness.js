// A classifier-free check of age guidance: the synthetic cohort draws age as the aortic knob's
// brightness (src/data/cohorts/chestRadiograph.ts: calcification 0 / 0.25 / 0.5 added at about
// x 0.56–0.64, y 0.24–0.28). The mean brightness of that region (pixels x 17–21, y 6–10 of 32),
// for held-out real effusion radiographs by their age label, and for 64 images of the neutral
// effusion prompt guided toward each band (scale 0.1, 10-step DDIM, guidance 3, seed 21).
// Usage, from this folder with the repository built: node knob_brightness.js
const tf = require("@tensorflow/tfjs-core");
const f = require("../../../dist/src/index.js");
const { trainingPreset } = require("../../../dist/src/pipeline/presets");
const { NEUTRAL_EFFUSION_PROMPT } = require("../../../dist/src/data/cohorts/chestRadiograph");
const {
  encodeGuidance,
  guidedNoisePrediction,
} = require("../../../dist/src/pipeline/guidedSampler");
const { DDIMScheduler } = require("../../../dist/src/schedulers/ddimScheduler");
const { latentsToUnitImages } = require("../../../dist/src/methods/alignmentLoss");
const { groupGuidedPrediction } = require("../../../dist/src/methods/groupGuidance");
const { resolveAlignmentAttributes } = require("../../../dist/src/methods/alignmentAttributes");
const { initialLatents } = require("../../../dist/src/pipeline/textToImage");

const BANDS = ["18-39", "40-64", "65+"];
const N = 64;
/** Mean of the knob region of a 32×32 one-channel image given as a flat array at `offset`. */
function knob(data, offset) {
  let sum = 0;
  for (let y = 6; y <= 10; y++) for (let x = 17; x <= 21; x++) sum += data[offset + y * 32 + x];
  return sum / 25;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
(async () => {
  await f.useBackend("wasm");
  const real = f
    .heldOutRealSamples(trainingPreset("cxr-mini"), { size: 2000, seed: 99 })
    .filter((s) => s.labels["Pleural Effusion"] === 1);
  for (const band of BANDS) {
    const values = real
      .filter((s) => s.attributes.ageBand === band)
      .map((s) => knob(s.image.data, 0));
    console.log(
      `real ${band}: knob brightness ${mean(values).toFixed(3)} (${values.length} images)`,
    );
  }
  const model = f.LatentDiffusionModel.load("../../../models/cxr-mini.fdckpt");
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const attributes = resolveAlignmentAttributes(classifier, {
    ageBand: Object.fromEntries(BANDS.map((b) => [b, 1 / 3])),
  });
  const scheduler = new DDIMScheduler({ ...model.config.noise, eta: 0 });
  scheduler.setTimesteps(10);
  const context = encodeGuidance(model.textEncoder, new Array(N).fill(NEUTRAL_EFFUSION_PROMPT));
  for (const target of [-1, 0, 1, 2]) {
    const guidance = {
      classifier,
      attributes,
      targets: [new Int32Array(N).fill(target)],
      scale: 0.1,
      schedule: scheduler.schedule,
    };
    let z = initialLatents(model, 21, 0, N);
    for (const t of scheduler.timesteps) {
      const next = tf.tidy(() => {
        const e = guidedNoisePrediction(model.unet, z, t, context, 3);
        return scheduler.step(
          target < 0 ? e : groupGuidedPrediction(guidance, model, z, t, e),
          t,
          z,
        ).prevSample;
      });
      z.dispose();
      z = next;
    }
    const images = latentsToUnitImages(model, z);
    const data = await images.data();
    const read = (await classifier.predict(images))[2].predicted;
    images.dispose();
    z.dispose();
    const values = Array.from({ length: N }, (_, i) => knob(data, i * 32 * 32));
    if (target < 0) {
      BANDS.forEach((band, g) => {
        const rows = values.filter((_, i) => read[i] === g);
        console.log(
          `unguided, read as ${band}: knob brightness ${mean(rows).toFixed(3)} (${rows.length} images)`,
        );
      });
    } else {
      console.log(
        `guided toward ${BANDS[target]}: knob brightness ${mean(values).toFixed(3)} (${N} images)`,
      );
    }
  }
})();
