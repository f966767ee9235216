/**
 * bench/peers/diffusion_twin.py is the same network as fairdiff's: with our weights and inputs,
 * its text encoder, UNet, decoder, training loss and every gradient match ours. Checked at the
 * unit tests' tiny size (self- and cross-attention, padding masks, the null prompt) and at the
 * shipped cxr-mini size. Residual branches are not zero-initialised here and norm γ/β are moved
 * off 1/0, so no layer hides behind a zero.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../../src/pipeline/presets";
import { presetVocabularyPrompts } from "../../src/pipeline/trainPreset";
import { compareWithTwin, perturbNorms } from "../../bench/peers/diffusionTwin";
import { peerHasModules } from "../../bench/peers/python";
import { testWhen } from "../helpers/requirements";
import { TINY_CONFIG, tinyExamples } from "../pipeline/tinyModel";

const withTorch = testWhen(peerHasModules(["torch", "numpy"]), "python3-torch");

let dir: string;
beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-twin-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The UNet's output is far from zero, and every output, the loss and the gradients agree. */
function expectTwinMatches(result: Awaited<ReturnType<typeof compareWithTwin>>): void {
  expect(result.maxAbs.unet).toBeGreaterThan(0.1);
  expect(result.maxAbsDiff.text).toBeLessThan(1e-4);
  expect(result.maxAbsDiff.unet).toBeLessThan(1e-4);
  expect(result.maxAbsDiff.decoded).toBeLessThan(1e-4);
  expect(result.maxAbsDiff.loss).toBeLessThan(1e-5 * Math.max(1, result.maxAbs.loss));
  expect(result.maxAbsDiff.gradients).toBeLessThan(1e-4 * Math.max(1, result.maxAbs.gradients));
}

withTorch("tiny model: the PyTorch twin matches outputs, loss and gradients", async () => {
  const examples = tinyExamples(16);
  const model = LatentDiffusionModel.create(
    examples.map((e) => e.prompt),
    { ...TINY_CONFIG, unet: { ...TINY_CONFIG.unet, zeroInitResiduals: false } },
    3,
  );
  try {
    perturbNorms(model, 4);
    // A real prompt, the null prompt (one real token), and a word the vocabulary lacks.
    const prompts = [examples[0].prompt, "", "chest radiograph of a zebra", examples[1].prompt];
    const result = await compareWithTwin(model, prompts, 5, path.join(dir, "tiny"));
    console.log(`tiny twin check: ${JSON.stringify(result)}`);
    expectTwinMatches(result);
  } finally {
    model.dispose();
  }
});

withTorch("cxr-mini model: the PyTorch twin matches outputs, loss and gradients", async () => {
  const allPrompts = presetVocabularyPrompts(CXR_MINI);
  const model = LatentDiffusionModel.create(
    allPrompts,
    { ...CXR_MINI.model, unet: { ...CXR_MINI.model.unet, zeroInitResiduals: false } },
    CXR_MINI.modelSeed,
  );
  try {
    perturbNorms(model, 6);
    const prompts = [allPrompts[0], "", allPrompts[1]];
    const result = await compareWithTwin(model, prompts, 7, path.join(dir, "cxr-mini"));
    console.log(`cxr-mini twin check: ${JSON.stringify(result)}`);
    expectTwinMatches(result);
  } finally {
    model.dispose();
  }
});
