/**
 * A preset run's stage files (the autoencoder's and the denoiser's state) are bound to their
 * settings: a re-run with another cohort size or step count is refused, naming the difference,
 * and `restart` discards them. An interrupted autoencoder stage saves its state, says so, and a
 * re-run resumes it where it stopped — ending on the very weights of an uninterrupted run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../../src/pipeline/presets";
import {
  presetStageFiles,
  trainPreset,
  type PresetRunOptions,
} from "../../src/pipeline/trainPreset";
import { expectSameWeights } from "../methods/fixtures";

beforeAll(() => useBackend("wasm"));

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-preset-resume-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ADVICE = "Re-run with --restart to start over, or write to another --out.";

/** Runs the preset; returns the stage:kind:step of every event and the model's info. */
async function run(options: PresetRunOptions) {
  const events: string[] = [];
  const model = await trainPreset(CXR_MINI, {
    replicas: 1,
    ...options,
    onEvent: (stage, event) => {
      events.push(`${stage}:${event.kind}:${event.step}`);
      options.onEvent?.(stage, event);
    },
  });
  const info = model.info;
  model.dispose();
  return { events, info };
}

/** Every tensor of the model saved at `file`. */
async function savedWeights(file: string): Promise<Record<string, Float32Array>> {
  const model = LatentDiffusionModel.load(file);
  const checkpoint = await model.toCheckpoint();
  model.dispose();
  return Object.fromEntries(Object.entries(checkpoint.tensors).map(([n, t]) => [n, t.values]));
}

test("stage files written with another step count or cohort size are refused; restart discards them", async () => {
  const out = path.join(dir, "mini.fdckpt");
  const files = presetStageFiles(out);
  const common = { out, cohortSize: 24, autoencoderSteps: 2, denoiserSteps: 2 };
  const first = await run(common);
  expect(first.info.complete).toBe(true);
  expect(fs.existsSync(files.autoencoder) && fs.existsSync(files.denoiser)).toBe(true);

  // More denoiser steps: stage 1 matches and is restored, stage 2's state is refused.
  await expect(run({ ...common, denoiserSteps: 3 })).rejects.toThrow(
    `${files.denoiser} (the denoiser stage's state) was written with other settings: steps 2 → 3. ${ADVICE}`,
  );
  // Another cohort: refused at stage 1, the cohort size named beside the fingerprints (the 32
  // images' captions hold words the 24's do not, so the model's vocabulary differs too).
  await expect(run({ ...common, cohortSize: 32 })).rejects.toThrow(
    new RegExp(
      `stage1\\.state\\.fdckpt \\(the autoencoder stage's state\\) was written with other settings: cohort size 24 → 32; model [0-9a-f]{12}… → [0-9a-f]{12}…; training images [0-9a-f]{12}… → [0-9a-f]{12}…\\. ${ADVICE}`,
    ),
  );
  // restart: both stages anew, then the files belong to the new settings.
  const restarted = await run({ ...common, cohortSize: 32, restart: true });
  expect(restarted.events.filter((e) => e.includes(":step:"))).toEqual([
    "autoencoder:step:1",
    "autoencoder:step:2",
    "denoiser:step:1",
    "denoiser:step:2",
  ]);
  expect(restarted.info).toMatchObject({ complete: true, cohort: { size: 32 } });
  const again = await run({ ...common, cohortSize: 32 });
  expect(again.events).toEqual([]);
}, 180_000);

test("an interrupted autoencoder stage saves its state and resumes to an uninterrupted run's weights", async () => {
  const common = { cohortSize: 24, autoencoderSteps: 3, denoiserSteps: 2 };
  const out = path.join(dir, "resumed.fdckpt");
  const files = presetStageFiles(out);

  // Stopped before the first step: nothing is saved, and the info says so.
  const stopped = new AbortController();
  stopped.abort();
  const nothing = await run({ ...common, out, signal: stopped.signal });
  expect(nothing.info.complete).toBe(false);
  expect(nothing.info.savedState).toBeUndefined();
  expect(fs.existsSync(files.autoencoder) || fs.existsSync(out)).toBe(false);

  const straightOut = path.join(dir, "straight.fdckpt");
  const straight = await run({ ...common, out: straightOut });

  // Ctrl-C after the autoencoder's first step: its state is written and reported.
  const controller = new AbortController();
  const interrupted = await run({
    ...common,
    out,
    signal: controller.signal,
    onEvent: (stage, event) => {
      if (stage === "autoencoder" && event.kind === "step") controller.abort();
    },
  });
  expect(interrupted.events).toEqual(["autoencoder:step:1", "autoencoder:checkpoint:1"]);
  expect(interrupted.info.complete).toBe(false);
  expect(interrupted.info.savedState).toEqual({
    stage: "autoencoder",
    file: files.autoencoder,
    step: 1,
  });
  expect(fs.existsSync(out)).toBe(false);

  const resumed = await run({ ...common, out });
  expect(resumed.events.filter((e) => e.includes(":step:"))).toEqual([
    "autoencoder:step:2",
    "autoencoder:step:3",
    "denoiser:step:1",
    "denoiser:step:2",
  ]);
  expect(resumed.info.complete).toBe(true);
  expect(resumed.info.autoencoder).toEqual(straight.info.autoencoder);
  expectSameWeights(await savedWeights(straightOut), await savedWeights(out));
}, 180_000);
