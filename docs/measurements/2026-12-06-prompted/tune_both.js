// Method 1 with LoRA on both the text encoder and the UNet (the CLI's --trainable takes one kind),
// otherwise run.sh's settings: node tune_both.js OUT SEED PRIOR_WEIGHT
const f = require("../../../dist/src/index.js");
const { NEUTRAL_EFFUSION_PROMPT } = require("../../../dist/src/data/cohorts/chestRadiograph");
const [out, seed, prior] = process.argv.slice(2);
(async () => {
  await f.useBackend("wasm");
  const model = f.LatentDiffusionModel.load("../../../models/cxr-mini.fdckpt");
  const classifier = f.SubgroupClassifier.load("../../../models/cxr-classifier.fdckpt");
  const started = Date.now();
  const run = f.distributionalAlignment(model, classifier, {
    steps: 300,
    seed: Number(seed),
    prompts: [NEUTRAL_EFFUSION_PROMPT],
    target: () => ({ race: { Asian: 0.34, Black: 0.33, White: 0.33 } }),
    trainable: ["text-lora", "unet-lora"],
    learningRate: 1e-2,
    semanticFeatures: "pixels",
    changedReference: "prompted",
    priorWeight: Number(prior),
  });
  for await (const e of run) {
    if (e.type === "step" && e.step % 30 === 0)
      console.log(`step ${e.step} loss ${e.losses.total.toFixed(4)} ${JSON.stringify(e.biasEstimate)}`);
  }
  await model.save(out);
  console.log(`wrote ${out} in ${((Date.now() - started) / 60000).toFixed(1)} min`);
})();
