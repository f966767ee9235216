/**
 * Test helper: reads and writes checkpoint files byte by byte, bypassing the encoder's checks, to
 * make the damaged, old-version or hand-edited files a user may hold.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";

export interface RawEntry {
  name: string;
  shape: unknown;
  offset: unknown;
  length: unknown;
  sha256?: unknown;
}

export interface RawHeader {
  format?: unknown;
  version?: unknown;
  kind?: unknown;
  metadata?: unknown;
  tensors?: RawEntry[];
  [key: string]: unknown;
}

export interface RawCheckpoint {
  header: RawHeader;
  /** The tensor data section, as float32 values (a copy). */
  data: Float32Array;
}

export function readRawCheckpoint(file: string): RawCheckpoint {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + length).toString("utf8")) as RawHeader;
  const start = (12 + length + 3) & ~3;
  const data = new Float32Array((bytes.length - start) / 4);
  new Uint8Array(data.buffer).set(bytes.subarray(start));
  return { header, data };
}

/** Writes `header` and `data` in the FDCKPT01 layout, as they are. */
export function writeRawCheckpoint(file: string, { header, data }: RawCheckpoint): void {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const start = (12 + json.length + 3) & ~3;
  const out = Buffer.alloc(start + data.byteLength);
  out.write("FDCKPT01", 0, "ascii");
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, start);
  fs.writeFileSync(file, out);
}

/** The entry named `name` (throws when absent, so a test cannot pass on a typo). */
export function entry(raw: RawCheckpoint, name: string): RawEntry {
  const found = raw.header.tensors?.find((t) => t.name === name);
  if (!found) throw new Error(`no tensor ${name}`);
  return found;
}

/** The values of tensor `name` inside raw.data (a live view: writes change the data). */
export function values(raw: RawCheckpoint, name: string): Float32Array {
  const e = entry(raw, name);
  return raw.data.subarray(e.offset as number, (e.offset as number) + (e.length as number));
}

/** Recomputes tensor `name`'s SHA-256 after an edit of its values (a consistent version-2 file). */
export function rehash(raw: RawCheckpoint, name: string): void {
  const v = values(raw, name);
  entry(raw, name).sha256 = createHash("sha256")
    .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    .digest("hex");
}

/** The same file as version 1 wrote it: no hashes. */
export function asVersion1(raw: RawCheckpoint): RawCheckpoint {
  const tensors = (raw.header.tensors ?? []).map((t) => {
    const copy = { ...t };
    delete copy.sha256;
    return copy;
  });
  return { header: { ...raw.header, version: 1, tensors }, data: raw.data };
}
