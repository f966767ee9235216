/**
 * Rewrites a checkpoint in the current format (a SHA-256 per tensor), keeping the kind, the
 * metadata and every tensor value bit for bit, and proves it by reading the new file back.
 * Older files load without this; upgrading adds the corruption check.
 */
import * as fs from "node:fs";
import {
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from "./checkpoint";

/** The format version a file's header declares (read before any check). */
export function checkpointFileVersion(file: string): unknown {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(8);
  return (JSON.parse(bytes.subarray(12, 12 + length).toString("utf8")) as { version?: unknown })
    .version;
}

/** Same kind, same metadata JSON, same tensor names in the same order, same bits; else why not. */
export function checkpointDifference(a: Checkpoint, b: Checkpoint): string | undefined {
  if (a.kind !== b.kind) return `kind ${a.kind} ≠ ${b.kind}`;
  if (JSON.stringify(a.metadata) !== JSON.stringify(b.metadata)) return "metadata differs";
  const names = Object.keys(a.tensors);
  if (JSON.stringify(names) !== JSON.stringify(Object.keys(b.tensors)))
    return "tensor names differ";
  for (const name of names) {
    const [x, y] = [a.tensors[name], b.tensors[name]];
    if (JSON.stringify(x.shape) !== JSON.stringify(y.shape)) return `shape of ${name} differs`;
    const bitsX = new Uint32Array(x.values.buffer, x.values.byteOffset, x.values.length);
    const bitsY = new Uint32Array(y.values.buffer, y.values.byteOffset, y.values.length);
    if (bitsX.length !== bitsY.length || bitsX.some((v, i) => v !== bitsY[i])) {
      return `values of ${name} differ`;
    }
  }
  return undefined;
}

/** Upgrades `file` in place (atomically); returns the version it had. */
export function upgradeCheckpoint(file: string): { from: unknown; to: number } {
  const from = checkpointFileVersion(file);
  const original = loadCheckpoint(file);
  saveCheckpoint(file, original);
  const difference = checkpointDifference(original, decodeCheckpoint(fs.readFileSync(file), file));
  if (difference !== undefined) throw new Error(`${file}: the rewrite changed it (${difference})`);
  return { from, to: CHECKPOINT_VERSION };
}
