/**
 * Loads a checkpoint's tensors into the modules its config built, after checking that they fit:
 * the same tensor names and, for each, the shape the architecture gives it. Sizes alone are not
 * enough ([32,64] and [64,32] hold as many values), and an unchecked mismatch would load weights
 * that compute nonsense. Errors name the file and the tensor.
 */
import type { Module, NamedWeights } from "./module";

/** A module and the prefix its parameters carry in the checkpoint ("" for none). */
export type CheckpointPart = readonly [prefix: string, module: Module];

interface TensorLike {
  values: Float32Array;
  shape: number[];
}

const LISTED = 3;

function checkpointName(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

function quoted(names: string[]): string {
  const shown = names.slice(0, LISTED).map((n) => `"${n}"`);
  return names.length > LISTED
    ? `${shown.join(", ")} and ${names.length - LISTED} more`
    : shown.join(", ");
}

/** Throws unless `tensors` has exactly the parameters of `parts`, each with its shape. */
export function assertCheckpointFits(
  source: string,
  tensors: Record<string, { shape: number[] }>,
  parts: readonly CheckpointPart[],
): void {
  const needed = new Map<string, number[]>();
  for (const [prefix, module] of parts) {
    for (const [name, v] of module.namedParameters())
      needed.set(checkpointName(prefix, name), v.shape);
  }
  const missing: string[] = [];
  for (const [name, shape] of needed) {
    const held = tensors[name];
    if (held === undefined) missing.push(name);
    else if (held.shape.length !== shape.length || held.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${source}: tensor "${name}" has shape [${held.shape}], the model's config needs [${shape}]`,
      );
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `${source}: the model's config needs tensor${missing.length > 1 ? "s" : ""} ${quoted(missing)}, missing from the file`,
    );
  }
  const unexpected = Object.keys(tensors).filter((name) => !needed.has(name));
  if (unexpected.length > 0) {
    throw new Error(
      `${source}: tensor${unexpected.length > 1 ? "s" : ""} ${quoted(unexpected)} ${unexpected.length > 1 ? "are" : "is"} not part of the model its config builds`,
    );
  }
}

/** Checks the fit (see assertCheckpointFits), then assigns every part's weights. */
export function assignCheckpointWeights(
  source: string,
  tensors: Record<string, TensorLike>,
  parts: readonly CheckpointPart[],
): void {
  assertCheckpointFits(source, tensors, parts);
  for (const [prefix, module] of parts) {
    const weights: NamedWeights = {};
    for (const [name] of module.namedParameters()) {
      weights[name] = tensors[checkpointName(prefix, name)].values;
    }
    module.setWeights(weights);
  }
}
