/**
 * fairdiff checkpoints: one versioned file holding named float32 tensors plus JSON (model
 * config, tokenizer, training state). Layout: "FDCKPT01", uint32 LE header length, UTF-8 JSON
 * header, zero padding to a 4-byte boundary, then the tensors' bytes. Written atomically.
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomicWrite";

export const CHECKPOINT_MAGIC = "FDCKPT01";
export const CHECKPOINT_VERSION = 1;

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

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface Header {
  format: "fairdiff-checkpoint";
  version: number;
  kind: string;
  metadata: unknown;
  tensors: TensorEntry[];
}

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(checkpoint.tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) {
      throw new Error(`tensor ${name}: ${t.values.length} values for shape [${t.shape}]`);
    }
    entries.push({ name, shape: t.shape, offset, length: t.values.length });
    offset += t.values.length;
  }
  const header: Header = {
    format: "fairdiff-checkpoint",
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
  let header: Header;
  try {
    header = JSON.parse(
      Buffer.from(bytes.subarray(12, 12 + headerLength)).toString("utf8"),
    ) as Header;
  } catch (error) {
    throw new Error(`${source} has a corrupt header: ${(error as Error).message}`);
  }
  if (header.format !== "fairdiff-checkpoint")
    throw new Error(`${source}: unknown format ${header.format}`);
  if (header.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `${source}: checkpoint version ${header.version}, this fairdiff reads ${CHECKPOINT_VERSION}`,
    );
  }
  const dataStart = align4(12 + headerLength);
  const total = header.tensors.reduce((n, t) => Math.max(n, t.offset + t.length), 0);
  if (dataStart + total * 4 > bytes.length) throw new Error(`${source} is truncated (tensor data)`);
  // Copy out so the tensors do not pin (or alias) the file buffer.
  const floats = new Float32Array(bytes.slice(dataStart, dataStart + total * 4).buffer);
  const tensors: Record<string, CheckpointTensor> = {};
  for (const t of header.tensors) {
    tensors[t.name] = { shape: t.shape, values: floats.slice(t.offset, t.offset + t.length) };
  }
  return { kind: header.kind, metadata: header.metadata as Meta, tensors };
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  writeFileAtomic(file, encodeCheckpoint(checkpoint));
}

export function loadCheckpoint<Meta = unknown>(
  file: string,
  expectedKind?: string,
): Checkpoint<Meta> {
  if (!fs.existsSync(file)) throw new Error(`checkpoint not found: ${file}`);
  const checkpoint = decodeCheckpoint<Meta>(new Uint8Array(fs.readFileSync(file)), file);
  if (expectedKind && checkpoint.kind !== expectedKind) {
    throw new Error(`${file} holds a "${checkpoint.kind}" checkpoint, expected "${expectedKind}"`);
  }
  return checkpoint;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
