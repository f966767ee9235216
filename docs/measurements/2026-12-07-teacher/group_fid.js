// FID of a prompt's own images within each race and each sex × race group, at equal image counts.
// Each spec is NAME=MODEL[:IMAGES[:GUIDANCE[:PROMPT]]] (defaults 1024 images, guidance 3, the neutral
// effusion prompt; seed 21, DDIM 25: the audit's images). Images are read by the classifier, real
// radiographs (the audit's held-out cohort's effusion images: prompt_fid.js) by their labels. A
// group's FID is taken on the first m of each model's images in it, m the smallest count among the
// models (the FID estimate rises as fewer images are used, so unequal counts would favour the model
// that draws the group more often); groups with fewer than 20 images in some model are left out.
// Usage, from this folder with the repository built:
//   node group_fid.js base=../../../models/cxr-mini.fdckpt:3072 tuned=tuned.fdckpt …
const f = require("../../../dist/src/index.js");
const { defaultFeatureExtractor } = require("../../../dist/src/features");
const { fidOfRows } = require("../../../dist/src/audit");
const { NEUTRAL_EFFUSION_PROMPT } = require("../../../dist/src/data/cohorts/chestRadiograph");
const { realEffusion } = require("../2026-12-06-prompted/prompt_fid.js");

const RACES = ["Asian", "Black", "White"];
const SEXES = ["Female", "Male"];
const MIN_IMAGES = 20;
const indices = (n) => Array.from({ length: n }, (_, i) => i);

async function drawn(spec, extractor, classifier) {
  const [name, rest] = spec.split(/=(.*)/s);
  const [file, images = "1024", guidance = "3", prompt = NEUTRAL_EFFUSION_PROMPT] = rest.split(":");
  const n = Number(images);
  const model = f.LatentDiffusionModel.load(file);
  const values = new Float32Array(n * extractor.info.dimension);
  const sex = new Int32Array(n);
  const race = new Int32Array(n);
  const heads = ["sex", "race"].map((task) => classifier.tasks.findIndex((t) => t.name === task));
  for (let first = 0; first < n; first += 256) {
    const count = Math.min(256, n - first);
    const batch = await f.generateImages(model, new Array(count).fill(prompt), {
      seed: 21,
      steps: 25,
      guidanceScale: Number(guidance),
      firstIndex: first,
    });
    values.set(await extractor.extract(batch), first * extractor.info.dimension);
    const predictions = await classifier.predict(batch);
    sex.set(predictions[heads[0]].predicted, first);
    race.set(predictions[heads[1]].predicted, first);
    batch.dispose();
  }
  model.dispose();
  return {
    name,
    label: `${name} (${n} images, guidance ${guidance}${prompt === NEUTRAL_EFFUSION_PROMPT ? "" : `, "${prompt}"`})`,
    n,
    sex,
    race,
    features: { values, dimension: extractor.info.dimension },
  };
}

(async () => {
  await f.useBackend("wasm");
  const extractor = defaultFeatureExtractor();
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const { real, realFeatures } = await realEffusion(extractor);
  const models = [];
  for (const spec of process.argv.slice(2)) models.push(await drawn(spec, extractor, classifier));
  for (const m of models) {
    const female = m.sex.filter((s) => s === 0).length / m.n;
    const races = RACES.map((_, g) => m.race.filter((r) => r === g).length / m.n);
    console.log(
      `${m.label}: FID ${fidOfRows(m.features, indices(m.n), realFeatures, indices(real.length)).value.toFixed(0)}; ` +
        `female ${(100 * female).toFixed(1)} %; race ${races.map((s) => (100 * s).toFixed(1)).join(" / ")} %`,
    );
  }
  const groups = [
    ...RACES.map((race, r) => ({
      label: race,
      generated: (m, i) => m.race[i] === r,
      real: (s) => s.attributes.race === race,
    })),
    ...RACES.flatMap((race, r) =>
      SEXES.map((sex, s) => ({
        label: `${sex} × ${race}`,
        generated: (m, i) => m.race[i] === r && m.sex[i] === s,
        real: (sample) => sample.attributes.race === race && sample.attributes.sex === sex,
      })),
    ),
  ];
  for (const group of groups) {
    const realRows = indices(real.length).filter((i) => group.real(real[i]));
    const rows = models.map((m) => indices(m.n).filter((i) => group.generated(m, i)));
    const m = Math.min(...rows.map((r) => r.length));
    if (m < MIN_IMAGES) {
      console.log(`${group.label}: left out (counts ${rows.map((r) => r.length).join(" / ")})`);
      continue;
    }
    const parts = models.map(
      (model, k) =>
        `${model.name} ${fidOfRows(model.features, rows[k].slice(0, m), realFeatures, realRows).value.toFixed(0)}`,
    );
    console.log(`${group.label} (${m} images each, ${realRows.length} real): ${parts.join("; ")}`);
  }
})();
