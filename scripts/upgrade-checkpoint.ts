/**
 * Rewrites fairdiff checkpoints in the current format (version 2: a SHA-256 per tensor), keeping
 * every tensor value bit for bit and the kind and metadata as they were. Older files still load
 * without this; upgrading adds the corruption check. Each file is verified after writing.
 *
 * Run (after `npx tsc -p tsconfig.json`):
 *   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --skipLibCheck --types node scripts/upgrade-checkpoint.ts && \
 *   node dist/scripts/upgrade-checkpoint.js models/cxr-mini.fdckpt models/cxr-classifier.fdckpt
 */
import * as fs from "node:fs";
import {
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from "../src/io/checkpoint";

function headerVersion(file: string): unknown {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(8);
  return (JSON.parse(bytes.subarray(12, 12 + length).toString("utf8")) as { version?: unknown })
    .version;
}

/** Same kind, same metadata JSON, same tensor names in the same order, same bits. */
function sameContent(a: Checkpoint, b: Checkpoint): string | undefined {
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

function upgrade(file: string): void {
  const before = headerVersion(file);
  const original = loadCheckpoint(file);
  saveCheckpoint(file, original);
  const difference = sameContent(original, decodeCheckpoint(fs.readFileSync(file), file));
  if (difference !== undefined) throw new Error(`${file}: the rewrite changed it (${difference})`);
  console.log(`${file}: version ${String(before)} → ${CHECKPOINT_VERSION}, content identical`);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node dist/scripts/upgrade-checkpoint.js FILE.fdckpt…");
  process.exit(2);
}
for (const file of files) upgrade(file);
