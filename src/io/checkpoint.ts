/**
 * fairdiff checkpoints: one versioned file holding named float32 tensors plus JSON (model
 * config, tokenizer, training state). Layout: "FDCKPT01", uint32 LE header length, UTF-8 JSON
 * header, zero padding to a 4-byte boundary, then the tensors' bytes. Written atomically.
 *
 * Weights are checked, not trusted: since version 2 each tensor carries the SHA-256 of its bytes
 * (flipped bytes are caught at load), the header's structure is validated, and tensors holding
 * NaN or ±Inf are refused both when saved and when loaded. Version-1 files (no hashes) still load,
 * with the structure and finite checks.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomicWrite";
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  isShape,
  shapeSize,
  validateCheckpointHeader,
  type CheckpointHeader,
  type TensorEntry,
} from "./checkpointHeader";

export { CHECKPOINT_VERSION } from "./checkpointHeader";
export const CHECKPOINT_MAGIC = "FDCKPT01";

export interface CheckpointTensor {
  values: Float32Array;
  shape: number[];
}

export interface Checkpoint<Meta = unknown> {
  /** What the file holds, e.g. "latent-diffusion" or "subgroup-classifier". */
  kind: string;
  /** Free-form JSON: config, tokenizer, training step, seed, manifest… */
  metadata: Meta;
  tensors: Record<string, CheckpointTensor>;
}

/** A checkpoint read from a file, with the SHA-256 (hex) of the file's bytes. */
export type LoadedCheckpoint<Meta = unknown> = Checkpoint<Meta> & { fileSha256: string };

/** `target` names the file in errors ("refusing to save <target>: …"). */
export function encodeCheckpoint(checkpoint: Checkpoint, target = "the checkpoint"): Uint8Array {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(checkpoint.tensors)) {
    if (!isShape(t.shape) || shapeSize(t.shape) !== t.values.length) {
      throw new Error(
        `refusing to save ${target}: tensor ${name}: ${t.values.length} values for shape [${t.shape}]`,
      );
    }
    const bad = countNonFinite(t.values);
    if (bad > 0) {
      throw new Error(
        `refusing to save ${target}: tensor "${name}" has ${bad} non-finite values (NaN/Inf)`,
      );
    }
    const sha256 = sha256Hex(
      new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength),
    );
    entries.push({ name, shape: t.shape, offset, length: t.values.length, sha256 });
    offset += t.values.length;
  }
  const header: CheckpointHeader = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind: checkpoint.kind,
    metadata: checkpoint.metadata,
    tensors: entries,
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const dataStart = align4(12 + json.length);
  const out = new Uint8Array(dataStart + offset * 4);
  out.set(Buffer.from(CHECKPOINT_MAGIC, "ascii"), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  const floats = new Float32Array(out.buffer, dataStart, offset);
  for (const entry of entries) floats.set(checkpoint.tensors[entry.name].values, entry.offset);
  return out;
}

/** `source` names the file in errors. */
export function decodeCheckpoint<Meta = unknown>(
  bytes: Uint8Array,
  source = "checkpoint",
): Checkpoint<Meta> {
  if (
    bytes.length < 12 ||
    Buffer.from(bytes.subarray(0, 8)).toString("ascii") !== CHECKPOINT_MAGIC
  ) {
    throw new Error(`${source} is not a fairdiff checkpoint (bad magic bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error(`${source} is truncated (header)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString("utf8"));
  } catch (error) {
    throw new Error(`${source} has a corrupt header: ${(error as Error).message}`);
  }
  const header = validateCheckpointHeader(parsed, source);
  const dataStart = align4(12 + headerLength);
  for (const t of header.tensors) {
    const end = dataStart + (t.offset + t.length) * 4;
    if (end > bytes.length) {
      throw new Error(
        `${source} is truncated or corrupt: tensor "${t.name}" ends at byte ${end}, the file has ${bytes.length}`,
      );
    }
  }
  const tensors: Record<string, CheckpointTensor> = {};
  for (const t of header.tensors) {
    const start = dataStart + t.offset * 4;
    const raw = bytes.subarray(start, start + t.length * 4);
    if (t.sha256 !== undefined && sha256Hex(raw) !== t.sha256) {
      throw new Error(
        `${source}: tensor "${t.name}" fails its SHA-256 check (the file is corrupt)`,
      );
    }
    // A copy, so the tensors neither pin nor alias the file buffer (and start 4-byte aligned).
    const values = new Float32Array(t.length);
    new Uint8Array(values.buffer).set(raw);
    const bad = countNonFinite(values);
    if (bad > 0) {
      throw new Error(
        `${source}: tensor "${t.name}" has ${bad} non-finite values (NaN/Inf); refusing to load corrupt weights`,
      );
    }
    tensors[t.name] = { shape: t.shape, values };
  }
  return { kind: header.kind, metadata: header.metadata as Meta, tensors };
}

/** Writes `checkpoint` atomically; returns the SHA-256 (hex) of the bytes written. */
export function saveCheckpoint(file: string, checkpoint: Checkpoint): string {
  // Encoded (and checked) before anything is written: a refused save leaves the old file as it was.
  const bytes = encodeCheckpoint(checkpoint, file);
  writeFileAtomic(file, bytes);
  return createHash("sha256").update(bytes).digest("hex");
}

export function loadCheckpoint<Meta = unknown>(
  file: string,
  expectedKind?: string,
): LoadedCheckpoint<Meta> {
  if (!fs.existsSync(file)) throw new Error(`checkpoint not found: ${file}`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  const checkpoint = decodeCheckpoint<Meta>(bytes, file);
  // The file's own fingerprint from the bytes already read (audits name it; no second read).
  const fileSha256 = createHash("sha256").update(bytes).digest("hex");
  if (expectedKind && checkpoint.kind !== expectedKind) {
    throw new Error(`${file} holds a "${checkpoint.kind}" checkpoint, expected "${expectedKind}"`);
  }
  return { ...checkpoint, fileSha256 };
}

function countNonFinite(values: Float32Array): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) count++;
  return count;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
