/**
 * Where a model or classifier came from, so that an audit can name its checkpoint file without
 * being told twice, and the names `fromPretrained` accepts: a shipped model ("cxr-mini" →
 * <package>/models/cxr-mini.fdckpt) or a checkpoint path.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256Weights } from "../audit/runFingerprints";
import type { CheckpointTensor } from "../io/checkpoint";
import type { NamedWeights } from "../models/module";
import { packageRoot } from "../features/packageRoot";

const CHECKPOINT_EXTENSION = ".fdckpt";

/** The checkpoint file a model or classifier was loaded from (or last saved to). */
export interface CheckpointSource {
  /** Absolute path of the file. */
  file: string;
  /** SHA-256 of the file's bytes when it was read or written. */
  sha256: string;
  /**
   * sha256Weights of the weights at that moment: an audit names the file only while the
   * weights in memory still match it (a fine-tuned model is no longer that file).
   */
  weightsSha256: string;
}

/**
 * Records `file` (whose bytes hash to `fileSha256`, as loadCheckpoint/saveCheckpoint give it) as
 * the source of weights that equal `tensors` now.
 */
export function checkpointSource(
  file: string,
  fileSha256: string,
  tensors: Readonly<Record<string, CheckpointTensor>>,
): CheckpointSource {
  const weights: NamedWeights = {};
  for (const [name, tensor] of Object.entries(tensors)) weights[name] = tensor.values;
  return { file: path.resolve(file), sha256: fileSha256, weightsSha256: sha256Weights(weights) };
}

/** The checkpoints shipped in the package's models/ folder, by name ("cxr-mini"). */
export function shippedCheckpointNames(): string[] {
  const folder = path.join(packageRoot(), "models");
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith(CHECKPOINT_EXTENSION))
    .map((f) => f.slice(0, -CHECKPOINT_EXTENSION.length))
    .sort();
}

const isFile = (file: string): boolean =>
  fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;

/**
 * The checkpoint file for `nameOrPath`: an existing file (absolute or relative to the working
 * folder) first, as diffusers looks at a local folder before the Hub; else a shipped model's
 * name, with or without ".fdckpt". The error lists the shipped names.
 */
export function pretrainedCheckpointPath(nameOrPath: string): string {
  if (nameOrPath.trim() === "") throw new Error("fromPretrained needs a model name or a file");
  if (isFile(nameOrPath)) return path.resolve(nameOrPath);
  const bare = !nameOrPath.includes("/") && !nameOrPath.includes("\\");
  if (bare) {
    const file = nameOrPath.endsWith(CHECKPOINT_EXTENSION)
      ? nameOrPath
      : `${nameOrPath}${CHECKPOINT_EXTENSION}`;
    const shipped = path.join(packageRoot(), "models", file);
    if (isFile(shipped)) return shipped;
  }
  const names = shippedCheckpointNames();
  throw new Error(
    `no checkpoint "${nameOrPath}": not a file${bare ? ", and not a shipped model" : ""} ` +
      `(shipped: ${names.length > 0 ? names.map((n) => `"${n}"`).join(", ") : "none"})`,
  );
}
