/**
 * Checked weights (issue #19): checkpoints carry a SHA-256 per tensor, their header structure is
 * validated, NaN/Inf weights are refused when saved and when loaded, and a model or classifier
 * refuses tensors whose names or shapes differ from what its config builds. Every error names the
 * file and the tensor. Version-1 files (no hashes) still load.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import {
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from "../../src/io/checkpoint";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { TINY_CONFIG } from "../pipeline/tinyModel";
import {
  asVersion1,
  entry,
  readRawCheckpoint,
  rehash,
  values,
  writeRawCheckpoint,
  type RawCheckpoint,
} from "./rawCheckpoint";

const MODELS = path.resolve(__dirname, "../../models");
const PROMPTS = ["Chest radiograph of a male patient", "Chest radiograph of a female patient"];

let dir: string;
/** A tiny model's checkpoint file (valid, version 2). */
let tinyFile: string;

beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-checked-weights-"));
  tinyFile = path.join(dir, "tiny.fdckpt");
  const model = LatentDiffusionModel.create(PROMPTS, TINY_CONFIG, 5);
  await model.save(tinyFile);
  model.dispose();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes an edited copy of `source` as `name` in the test folder; returns its path. */
function editedCopy(source: string, name: string, edit: (raw: RawCheckpoint) => RawCheckpoint) {
  const file = path.join(dir, name);
  writeRawCheckpoint(file, edit(readRawCheckpoint(source)));
  return file;
}

function escaped(file: string): string {
  return file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

test("the shipped models are version 2: every tensor carries a SHA-256 that matches", () => {
  expect(CHECKPOINT_VERSION).toBe(2);
  for (const name of ["cxr-mini.fdckpt", "cxr-classifier.fdckpt"]) {
    const raw = readRawCheckpoint(path.join(MODELS, name));
    expect(raw.header.version).toBe(2);
    for (const t of raw.header.tensors ?? []) expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    // decode verifies every hash (and throws on the first mismatch).
    expect(() => loadCheckpoint(path.join(MODELS, name))).not.toThrow();
  }
});

test("4 KB of flipped bytes in the middle of cxr-mini are refused, naming the file and tensor", () => {
  const file = path.join(dir, "cxr-mini-flipped.fdckpt");
  const bytes = fs.readFileSync(path.join(MODELS, "cxr-mini.fdckpt"));
  const middle = Math.floor(bytes.length / 2);
  for (let i = middle; i < middle + 4096; i++) bytes[i] ^= 0xff;
  fs.writeFileSync(file, bytes);
  const before = tf.memory().numTensors;
  expect(() => LatentDiffusionModel.load(file)).toThrow(
    new RegExp(
      `^${escaped(file)}: tensor "unet\\.up2_res0\\.conv1\\.kernel" fails its SHA-256 check \\(the file is corrupt\\)$`,
    ),
  );
  expect(tf.memory().numTensors).toBe(before);
});

test("a NaN embedding is refused at load, in version-2 and version-1 files", () => {
  const poison = (raw: RawCheckpoint) => {
    values(raw, "text.tokenEmbedding").fill(Number.NaN);
    rehash(raw, "text.tokenEmbedding");
    return raw;
  };
  const v2 = editedCopy(tinyFile, "nan.fdckpt", poison);
  const v1 = editedCopy(tinyFile, "nan-v1.fdckpt", (raw) => asVersion1(poison(raw)));
  const count = (entry(readRawCheckpoint(tinyFile), "text.tokenEmbedding").length as number) + "";
  const before = tf.memory().numTensors;
  for (const file of [v2, v1]) {
    expect(() => LatentDiffusionModel.load(file)).toThrow(
      `${file}: tensor "text.tokenEmbedding" has ${count} non-finite values (NaN/Inf); refusing to load corrupt weights`,
    );
  }
  expect(tf.memory().numTensors).toBe(before);
});

test("version-1 files (no hashes) still load with every value as it was", () => {
  const v1 = editedCopy(tinyFile, "old.fdckpt", asVersion1);
  expect(readRawCheckpoint(v1).header.version).toBe(1);
  const original = loadCheckpoint(tinyFile);
  const old = loadCheckpoint(v1);
  expect(Object.keys(old.tensors)).toEqual(Object.keys(original.tensors));
  for (const [name, t] of Object.entries(original.tensors)) {
    expect(old.tensors[name].shape).toEqual(t.shape);
    expect(Buffer.from(old.tensors[name].values.buffer)).toEqual(Buffer.from(t.values.buffer));
  }
  const model = LatentDiffusionModel.load(v1);
  model.dispose();
});

test("a header's structure is checked, with the file and the tensor named", () => {
  const broken = (name: string, edit: (raw: RawCheckpoint) => void) =>
    editedCopy(tinyFile, name, (raw) => {
      edit(raw);
      return raw;
    });
  const cases: [string, (raw: RawCheckpoint) => void, RegExp][] = [
    [
      "no-tensors.fdckpt",
      (raw) => delete raw.header.tensors,
      /no-tensors\.fdckpt: the checkpoint header has no "tensors" list \(the file is corrupt or not a fairdiff checkpoint\)$/,
    ],
    [
      "version-3.fdckpt",
      (raw) => (raw.header.version = 3),
      /version-3\.fdckpt: checkpoint version 3, this fairdiff reads versions 1 and 2$/,
    ],
    [
      "no-kind.fdckpt",
      (raw) => (raw.header.kind = 7),
      /no-kind\.fdckpt: the checkpoint header has no "kind" string$/,
    ],
    [
      "bad-shape.fdckpt",
      (raw) => (entry(raw, "text.tokenEmbedding").shape = [-1, 16]),
      /bad-shape\.fdckpt: tensor "text\.tokenEmbedding" has shape \[-1,16\], not a list of non-negative integers$/,
    ],
    [
      "bad-length.fdckpt",
      (raw) => (entry(raw, "text.positionEmbedding").length = 3),
      /bad-length\.fdckpt: tensor "text\.positionEmbedding" declares shape \[\d+,16\] \(\d+ values\) but holds 3$/,
    ],
    [
      "bad-offset.fdckpt",
      (raw) => (entry(raw, "text.positionEmbedding").offset = 1.5),
      /bad-offset\.fdckpt: tensor "text\.positionEmbedding" has offset 1\.5 and length \d+, not non-negative integers$/,
    ],
    [
      "outside.fdckpt",
      (raw) => (entry(raw, "text.positionEmbedding").offset = raw.data.length),
      /outside\.fdckpt is truncated or corrupt: tensor "text\.positionEmbedding" ends at byte \d+, the file has \d+$/,
    ],
    [
      "twice.fdckpt",
      (raw) => raw.header.tensors?.push({ ...entry(raw, "text.tokenEmbedding") }),
      /twice\.fdckpt: tensor "text\.tokenEmbedding" is listed twice$/,
    ],
    [
      "no-hash.fdckpt",
      (raw) => delete entry(raw, "text.tokenEmbedding").sha256,
      /no-hash\.fdckpt: tensor "text\.tokenEmbedding" has no valid SHA-256 \(the file is corrupt\)$/,
    ],
    [
      "unnamed.fdckpt",
      (raw) => ((raw.header.tensors as unknown[])[2] = { shape: [1] }),
      /unnamed\.fdckpt: tensor entry 2 has no name$/,
    ],
  ];
  for (const [name, edit, message] of cases) {
    expect(() => loadCheckpoint(broken(name, edit))).toThrow(message);
  }
});

test("tensor shapes and names must be those the model's config builds", () => {
  const before = tf.memory().numTensors;
  const swapped = editedCopy(tinyFile, "transposed.fdckpt", (raw) => {
    const e = entry(raw, "text.tokenEmbedding");
    e.shape = [...(e.shape as number[])].reverse();
    return raw;
  });
  const [rows, width] = entry(readRawCheckpoint(tinyFile), "text.tokenEmbedding").shape as number[];
  expect(() => LatentDiffusionModel.load(swapped)).toThrow(
    `${swapped}: tensor "text.tokenEmbedding" has shape [${width},${rows}], the model's config needs [${rows},${width}]`,
  );
  // A config that builds another architecture than the weights were trained with.
  const wider = editedCopy(tinyFile, "wider.fdckpt", (raw) => {
    const meta = raw.header.metadata as { config: { textEncoder: { width: number } } };
    meta.config.textEncoder.width = 32;
    return raw;
  });
  expect(() => LatentDiffusionModel.load(wider)).toThrow(
    new RegExp(
      `^${escaped(wider)}: tensor "text\\.tokenEmbedding" has shape \\[${rows},16\\], the model's config needs \\[${rows},32\\]$`,
    ),
  );
  const missing = editedCopy(tinyFile, "missing.fdckpt", (raw) => {
    raw.header.tensors = raw.header.tensors?.filter((t) => t.name !== "unet.convIn.kernel");
    return raw;
  });
  expect(() => LatentDiffusionModel.load(missing)).toThrow(
    `${missing}: the model's config needs tensor "unet.convIn.kernel", missing from the file`,
  );
  const extra = editedCopy(tinyFile, "extra.fdckpt", (raw) => {
    raw.header.tensors?.push({ ...entry(raw, "unet.convIn.kernel"), name: "unet.stray.kernel" });
    return raw;
  });
  expect(() => LatentDiffusionModel.load(extra)).toThrow(
    `${extra}: tensor "unet.stray.kernel" is not part of the model its config builds`,
  );
  const classifier = editedCopy(
    path.join(MODELS, "cxr-classifier.fdckpt"),
    "classifier-transposed.fdckpt",
    (raw) => {
      entry(raw, "hidden.weight").shape = [
        ...(entry(raw, "hidden.weight").shape as number[]),
      ].reverse();
      return raw;
    },
  );
  expect(() => SubgroupClassifier.load(classifier)).toThrow(
    new RegExp(
      `^${escaped(classifier)}: tensor "hidden\\.weight" has shape \\[64,\\d+\\], the model's config needs \\[\\d+,64\\]$`,
    ),
  );
  expect(tf.memory().numTensors).toBe(before);
});

test("saving non-finite weights is refused, naming the file, tensor and count; the old file stays", async () => {
  const file = path.join(dir, "refused.fdckpt");
  const good: Checkpoint = {
    kind: "x",
    metadata: {},
    tensors: { w: { values: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] } },
  };
  saveCheckpoint(file, good);
  const saved = fs.readFileSync(file);
  const bad = Float32Array.from([1, Number.NaN, Number.POSITIVE_INFINITY, 4]);
  expect(() =>
    saveCheckpoint(file, { ...good, tensors: { w: { values: bad, shape: [2, 2] } } }),
  ).toThrow(`refusing to save ${file}: tensor "w" has 2 non-finite values (NaN/Inf)`);
  expect(fs.readFileSync(file)).toEqual(saved);
  expect(fs.readdirSync(dir).filter((f) => f.includes("refused"))).toEqual(["refused.fdckpt"]);

  // Through a model: one NaN weight and LatentDiffusionModel.save refuses.
  const model = LatentDiffusionModel.load(tinyFile);
  const [name, variable] = model.unet.namedParameters()[0];
  tf.tidy(() => variable.assign(tf.fill(variable.shape, Number.NaN)));
  const out = path.join(dir, "nan-model.fdckpt");
  await expect(model.save(out)).rejects.toThrow(
    `refusing to save ${out}: tensor "unet.${name}" has ${variable.size} non-finite values (NaN/Inf)`,
  );
  model.dispose();
  expect(fs.existsSync(out)).toBe(false);
});

test("encode writes hashes decode checks: a round trip is exact, one flipped bit is caught", () => {
  const checkpoint: Checkpoint = {
    kind: "x",
    metadata: { a: 1 },
    tensors: {
      first: { values: Float32Array.from([0.5, -2, 3e-38]), shape: [3] },
      second: { values: Float32Array.from([7]), shape: [] },
    },
  };
  const bytes = encodeCheckpoint(checkpoint);
  const back = decodeCheckpoint(bytes);
  expect(Array.from(back.tensors.first.values)).toEqual(
    Array.from(checkpoint.tensors.first.values),
  );
  expect(back.tensors.second.shape).toEqual([]);
  bytes[bytes.length - 1] ^= 0x01; // the last byte belongs to "second"
  expect(() => decodeCheckpoint(bytes, "flipped.fdckpt")).toThrow(
    'flipped.fdckpt: tensor "second" fails its SHA-256 check (the file is corrupt)',
  );
});
