/** Checkpoints round-trip exactly, are written atomically and reject damaged files by name. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from "../../src/io/checkpoint";

const sample: Checkpoint<{ step: number; config: { width: number } }> = {
  kind: "latent-diffusion",
  metadata: { step: 12, config: { width: 64 } },
  tensors: {
    "unet.convIn.kernel": { values: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [1, 2, 3] },
    "text.embedding": { values: Float32Array.from([-0.5, Math.PI]), shape: [2] },
    empty: { values: new Float32Array(0), shape: [0, 4] },
  },
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-ckpt-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test("encode/decode round-trips tensors and metadata bit for bit", () => {
  const back = decodeCheckpoint<typeof sample.metadata>(encodeCheckpoint(sample));
  expect(back.kind).toBe("latent-diffusion");
  expect(back.metadata).toEqual(sample.metadata);
  for (const [name, t] of Object.entries(sample.tensors)) {
    expect(back.tensors[name].shape).toEqual(t.shape);
    expect(Array.from(back.tensors[name].values)).toEqual(Array.from(t.values));
  }
});

test("save replaces the file atomically and leaves no temporary files", () => {
  const file = path.join(dir, "model.fdckpt");
  saveCheckpoint(file, sample);
  saveCheckpoint(file, { ...sample, metadata: { ...sample.metadata, step: 13 } });
  expect(fs.readdirSync(dir)).toEqual(["model.fdckpt"]);
  expect(loadCheckpoint<typeof sample.metadata>(file).metadata.step).toBe(13);
});

test("damaged, foreign, missing or wrong-kind files are rejected with the file named", () => {
  const file = path.join(dir, "model.fdckpt");
  saveCheckpoint(file, sample);
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(path.join(dir, "cut.fdckpt"), bytes.subarray(0, bytes.length - 8));
  expect(() => loadCheckpoint(path.join(dir, "cut.fdckpt"))).toThrow(/cut\.fdckpt is truncated/);
  fs.writeFileSync(path.join(dir, "png.fdckpt"), Buffer.from("\x89PNG\r\n\x1a\n0000000000"));
  expect(() => loadCheckpoint(path.join(dir, "png.fdckpt"))).toThrow(
    /png\.fdckpt is not a fairdiff checkpoint/,
  );
  expect(() => loadCheckpoint(path.join(dir, "absent.fdckpt"))).toThrow(
    /checkpoint not found: .*absent/,
  );
  expect(() => loadCheckpoint(file, "subgroup-classifier")).toThrow(
    /holds a "latent-diffusion" checkpoint/,
  );
  expect(() =>
    encodeCheckpoint({
      kind: "x",
      metadata: {},
      tensors: { w: { values: new Float32Array(3), shape: [2, 2] } },
    }),
  ).toThrow(/tensor w: 3 values for shape \[2,2\]/);
});
