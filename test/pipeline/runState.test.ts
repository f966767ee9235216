/**
 * The one run-state format: a state file keeps the settings it was written with, and is read
 * back only by a run with the very same settings; every difference is named, a file from an
 * earlier fairdiff (no settings) is refused, and `restart` deletes the file before a run starts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { saveCheckpoint } from "../../src/io/checkpoint";
import {
  loadRunState,
  saveRunState,
  settingsDifferences,
  stateToResume,
  StaleRunStateError,
  type RunSettings,
} from "../../src/pipeline/runState";
import { promptsSetting, targetSetting } from "../../src/pipeline/runSettings";

const KIND = "test-state";
const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

const settings: RunSettings = {
  model: HASH_A,
  prompts: promptsSetting(["a patient"]),
  target: targetSetting({ sex: { Male: 0.5, Female: 0.5 } }),
  steps: 2,
  "EMA decay": null,
};

const state = {
  step: 2,
  complete: true,
  weights: [Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([7])],
  average: [Float32Array.from([0, 1, 0, 1, 0, 1]), Float32Array.from([0.5])],
  optimizer: {
    iterations: 2,
    slots: [{ name: "0/m", shape: [2, 3], values: Float32Array.from([1, 1, 1, 1, 1, 1]) }],
  },
  extra: { sigma: [0.25] },
};
const shapes = [[2, 3], [1]];

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-run-state-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a state file reads back whole under the settings it was written with", () => {
  const file = path.join(dir, "same.fdckpt");
  saveRunState(file, KIND, settings, shapes, state);
  const read = loadRunState<{ sigma: number[] }>(file, KIND, { ...settings }, shapes);
  expect(read.step).toBe(2);
  expect(read.complete).toBe(true);
  expect(read.weights.map((w) => Array.from(w))).toEqual([[1, 2, 3, 4, 5, 6], [7]]);
  expect(read.average?.map((w) => Array.from(w))).toEqual([[0, 1, 0, 1, 0, 1], [0.5]]);
  expect(read.optimizer.iterations).toBe(2);
  expect(read.optimizer.slots.map((s) => s.name)).toEqual(["0/m"]);
  expect(read.extra).toEqual({ sigma: [0.25] });
});

test("other settings are refused, every difference named, with what to do", () => {
  const file = path.join(dir, "run.state.fdckpt");
  saveRunState(file, KIND, settings, shapes, state);
  const other: RunSettings = {
    ...settings,
    model: HASH_B,
    prompts: promptsSetting(["another patient"]),
    target: targetSetting({ sex: { Female: 0.9, Male: 0.1 } }),
    "EMA decay": 0.9,
    "LoRA rank": 4,
  };
  let error: unknown;
  try {
    loadRunState(file, KIND, other, shapes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StaleRunStateError);
  expect((error as Error).message).toBe(
    `${file} was written with other settings: model aaaaaaaaaaaa… → bbbbbbbbbbbb…; ` +
      `prompts "a patient" → "another patient"; ` +
      "target sex=Female:0.5,Male:0.5 → sex=Female:0.9,Male:0.1; EMA decay none → 0.9; " +
      "LoRA rank none → 4. Re-run with --restart to start over, or pass another --state file.",
  );
  expect((error as StaleRunStateError).differences).toHaveLength(5);
  // A caller with other flags words it its own way.
  expect((error as StaleRunStateError).reworded("Try again.", "stage 2").message).toMatch(
    /^\S+run\.state\.fdckpt \(stage 2\) was written with other settings: .* LoRA rank none → 4\. Try again\.$/,
  );
  // A setting the file has and this run lacks counts too.
  const { steps: _steps, ...fewer } = settings;
  expect(settingsDifferences(settings, fewer)).toEqual(["steps 2 → none"]);
});

test("a state file without recorded settings (an earlier fairdiff's) is refused", () => {
  const file = path.join(dir, "old.fdckpt");
  saveCheckpoint(file, {
    kind: KIND,
    metadata: { step: 1, seed: 7, batchSize: 4, iterations: 1 },
    tensors: { "weights.0": { values: new Float32Array(6), shape: [2, 3] } },
  });
  expect(() => loadRunState(file, KIND, settings, shapes)).toThrow(
    `${file} was written by an earlier fairdiff that did not record its settings, so it cannot be shown to belong to this run. Re-run with --restart to start over, or pass another --state file.`,
  );
});

test("weights of other shapes are refused even under the same settings", () => {
  const file = path.join(dir, "shapes.fdckpt");
  saveRunState(file, KIND, settings, shapes, state);
  expect(() => loadRunState(file, KIND, settings, [[3, 2], [1]])).toThrow(
    /does not hold this run's trained variables \(weights\.0: \[2,3\], expected \[3,2\]\)/,
  );
});

test("restart deletes an existing state file; without it the file is resumed", () => {
  const file = path.join(dir, "restart.fdckpt");
  expect(stateToResume(file, false)).toBeUndefined();
  expect(stateToResume(undefined, false)).toBeUndefined();
  saveRunState(file, KIND, settings, shapes, state);
  expect(stateToResume(file, false)).toBe(file);
  expect(fs.existsSync(file)).toBe(true);
  expect(stateToResume(file, true)).toBeUndefined();
  expect(fs.existsSync(file)).toBe(false);
});
