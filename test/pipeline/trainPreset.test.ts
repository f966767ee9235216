/** A preset run writes a loadable model with its recipe, and a re-run resumes from its state. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { gridColumns, rastersFromBatch, tileImages } from "../../src/io/imageGrid";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI, trainingPreset } from "../../src/pipeline/presets";
import { trainPreset } from "../../src/pipeline/trainPreset";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";

beforeAll(() => useBackend("wasm"));

test("the cxr-mini cohort carries the documented bias", () => {
  // Labels and prompts are fixed up front; no image needs rendering to check proportions.
  const examples = createSyntheticCohort({
    cohort: CXR_MINI.cohort,
    size: 2000,
    seed: CXR_MINI.cohortSeed,
    mix: CXR_MINI.mix,
  }).records;
  const effusion = examples.filter((e) => e.prompt.includes("Pleural Effusion"));
  const male = effusion.filter((e) => e.prompt.includes(" Male ")).length / effusion.length;
  expect(male).toBeCloseTo(0.85, 2);
  const asian = examples.filter((e) => e.prompt.includes(" Asian ")).length / examples.length;
  expect(asian).toBeCloseTo(0.15, 2);
  expect(() => trainingPreset("mri-huge")).toThrow(/unknown preset "mri-huge"/);
});

test("a short preset run saves a model with its recipe; the same run again retrains nothing", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-preset-"));
  const out = path.join(dir, "mini.fdckpt");
  const events: string[] = [];
  const common = { out, replicas: 1, cohortSize: 32, autoencoderSteps: 2 };
  (
    await trainPreset(CXR_MINI, {
      ...common,
      denoiserSteps: 2,
      onEvent: (s, e) => events.push(`${s}:${e.kind}`),
    })
  ).dispose();
  expect(events.filter((e) => e === "autoencoder:step")).toHaveLength(2);
  const first = LatentDiffusionModel.load(out);
  expect(first.info.preset).toBe("cxr-mini");
  expect(first.info.complete).toBe(true);
  expect(fs.statSync(out).size).toBeLessThan(10 * 1024 * 1024);
  first.dispose();

  // Both stages come back from their state files (a longer or otherwise changed run is refused:
  // presetResume.test.ts).
  const seen: string[] = [];
  const again = await trainPreset(CXR_MINI, {
    ...common,
    denoiserSteps: 2,
    onEvent: (s, e) => seen.push(`${s}:${e.kind}`),
  });
  expect(seen).toEqual([]);
  expect(again.info.complete).toBe(true);
  again.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}, 120000);

test("tileImages lays images out row-major with gaps and magnification", () => {
  const values = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
  const images = rastersFromBatch(values, [2, 2, 2, 1]);
  const grid = tileImages(images, { columns: 2, gap: 1, scale: 2, background: 0 });
  expect([grid.width, grid.height]).toEqual([2 * 4 + 3, 4 + 2]);
  // Top-left pixel of the second image, magnified ×2, after the gaps.
  expect(grid.data[1 * grid.width + 1 + 4 + 1]).toBeCloseTo(0.5);
  expect(grid.data[2 * grid.width + 2]).toBeCloseTo(0.1);
  expect(() => tileImages([])).toThrow(/no images/);
  // Default layout: no empty cell where a near-square layout fills exactly.
  expect([1, 2, 4, 6, 8, 9, 12, 16, 7].map(gridColumns)).toEqual([1, 2, 2, 3, 4, 3, 4, 4, 3]);
  const eight = tileImages(
    Array.from({ length: 8 }, () => images[0]),
    { gap: 0 },
  );
  expect([eight.width, eight.height]).toEqual([4 * images[0].width, 2 * images[0].height]);
});
