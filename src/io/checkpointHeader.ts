/**
 * The JSON header of a fairdiff checkpoint and its structural check. A header comes from a file
 * that may be damaged or foreign, so every field is checked before the decoder trusts it, and each
 * error names the file and the tensor entry at fault.
 */

export const CHECKPOINT_FORMAT = "fairdiff-checkpoint";
/** Version 1: no per-tensor hashes. Version 2: every entry carries the SHA-256 of its bytes. */
export const CHECKPOINT_VERSION = 2;
export const READABLE_CHECKPOINT_VERSIONS: readonly number[] = [1, 2];

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset and length in float32 values from the start of the tensor data. */
  offset: number;
  length: number;
  /** Hex SHA-256 of the tensor's little-endian float32 bytes (version 2 and later). */
  sha256?: string;
}

export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  kind: string;
  metadata: unknown;
  tensors: TensorEntry[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Values a shape holds; a shape is a list of non-negative integers. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isShape(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    value.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  );
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a parsed header's structure (not yet its byte ranges, hashes or values). */
export function validateCheckpointHeader(parsed: unknown, source: string): CheckpointHeader {
  if (!isRecord(parsed)) throw new Error(`${source}: the checkpoint header is not a JSON object`);
  if (parsed.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${source}: unknown format ${JSON.stringify(parsed.format)}`);
  }
  const version = parsed.version;
  if (typeof version !== "number" || !READABLE_CHECKPOINT_VERSIONS.includes(version)) {
    throw new Error(
      `${source}: checkpoint version ${JSON.stringify(version)}, this fairdiff reads versions ${READABLE_CHECKPOINT_VERSIONS.join(" and ")}`,
    );
  }
  if (typeof parsed.kind !== "string") {
    throw new Error(`${source}: the checkpoint header has no "kind" string`);
  }
  if (!Array.isArray(parsed.tensors)) {
    throw new Error(
      `${source}: the checkpoint header has no "tensors" list (the file is corrupt or not a fairdiff checkpoint)`,
    );
  }
  const seen = new Set<string>();
  const tensors = parsed.tensors.map((entry: unknown, i: number) => {
    const checked = validateEntry(entry, i, version, source);
    if (seen.has(checked.name)) {
      throw new Error(`${source}: tensor "${checked.name}" is listed twice`);
    }
    seen.add(checked.name);
    return checked;
  });
  return {
    format: CHECKPOINT_FORMAT,
    version,
    kind: parsed.kind,
    metadata: parsed.metadata,
    tensors,
  };
}

function validateEntry(entry: unknown, index: number, version: number, source: string) {
  if (!isRecord(entry) || typeof entry.name !== "string" || entry.name === "") {
    throw new Error(`${source}: tensor entry ${index} has no name`);
  }
  const { name, shape, offset, length, sha256 } = entry;
  if (!isShape(shape)) {
    throw new Error(
      `${source}: tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of non-negative integers`,
    );
  }
  if (!isCount(offset) || !isCount(length)) {
    throw new Error(
      `${source}: tensor "${name}" has offset ${JSON.stringify(offset)} and length ${JSON.stringify(length)}, not non-negative integers`,
    );
  }
  if (length !== shapeSize(shape)) {
    throw new Error(
      `${source}: tensor "${name}" declares shape [${shape}] (${shapeSize(shape)} values) but holds ${length}`,
    );
  }
  const checked: TensorEntry = { name, shape, offset, length };
  if (version >= 2) {
    if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256)) {
      throw new Error(`${source}: tensor "${name}" has no valid SHA-256 (the file is corrupt)`);
    }
    checked.sha256 = sha256;
  }
  return checked;
}
