// What the shipped cxr-mini draws for prompts naming sex and race, per finding: the share the
// classifier reads as the named group (48 images each, 10-step DDIM, guidance 3, seed 21).
// Usage, from this folder with the repository built: node named_prompts.js
const tf = require("@tensorflow/tfjs-core");
const root = "../../..";
const f = require("../../../dist/src/index.js");
const { chestFindingsPrompt } = require("../../../dist/src/data/prompts");
(async () => {
  await f.useBackend("wasm");
  const clf = f.SubgroupClassifier.load(root + "/models/cxr-classifier.fdckpt");
  const model = f.LatentDiffusionModel.load(process.argv[2] || root + "/models/cxr-mini.fdckpt");
  const N = 48;
  for (const findings of [["Pleural Effusion"], ["Cardiomegaly"], []]) {
    const row = [];
    for (const sex of [undefined, "Female", "Male"])
      for (const race of [undefined, "Asian", "Black", "White"]) {
        const prompt = chestFindingsPrompt({ sex, race, findings });
        const images = await f.generateImages(model, new Array(N).fill(prompt), {
          seed: 21,
          steps: 10,
          guidanceScale: 3,
        });
        const pred = await clf.predict(images);
        images.dispose();
        const frac = (h, g) => pred[h].predicted.filter((p) => p === g).length / N;
        const r = race ? frac(1, ["Asian", "Black", "White"].indexOf(race)) : null;
        const s = sex ? frac(0, ["Female", "Male"].indexOf(sex)) : null;
        row.push(
          `${sex ?? "-"}/${race ?? "-"}: ${s === null ? "" : "sex " + s.toFixed(2)} ${r === null ? "" : "race " + r.toFixed(2)}`,
        );
      }
    console.log(findings.join("+") || "No Finding", "|", row.join(" | "));
  }
})();
