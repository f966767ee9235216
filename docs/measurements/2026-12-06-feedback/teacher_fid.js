// The base model's images for prompts naming groups (what the distillation's teacher starts from, unguided): 320 images a
// prompt (seed 21, DDIM 25, guidance 3), FID within each race by the classifier's reading against the real effusion
// radiographs of that race. Usage, from this folder with the repository built: node teacher_fid.js "PROMPT" …
const f = require("../../../dist/src/index.js");
const { defaultFeatureExtractor } = require("../../../dist/src/features");
const { fidOfRows } = require("../../../dist/src/audit");
const { realEffusion } = require("../2026-12-06-prompted/prompt_fid.js");
(async () => {
  await f.useBackend("wasm");
  const extractor = defaultFeatureExtractor();
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const raceHead = classifier.tasks.findIndex((t) => t.name === "race");
  const { real, realFeatures } = await realEffusion(extractor);
  const model = f.LatentDiffusionModel.load("../../../models/cxr-mini.fdckpt");
  const all = (n) => Array.from({ length: n }, (_, i) => i);
  for (const prompt of process.argv.slice(2)) {
    const n = 320;
    const images = await f.generateImages(model, new Array(n).fill(prompt), { seed: 21, steps: 25, guidanceScale: 3 });
    const generated = { values: await extractor.extract(images), dimension: extractor.info.dimension };
    const predicted = (await classifier.predict(images))[raceHead].predicted;
    images.dispose();
    const parts = [];
    ["Asian", "Black", "White"].forEach((race, g) => {
      const rows = all(n).filter((i) => predicted[i] === g);
      const realRows = all(real.length).filter((i) => real[i].attributes.race === race);
      parts.push(rows.length >= 2 ? `${race} ${fidOfRows(generated, rows, realFeatures, realRows).value.toFixed(0)} (${rows.length})` : `${race} — (${rows.length})`);
    });
    console.log(`${prompt}: ${parts.join("; ")}`);
  }
})();
