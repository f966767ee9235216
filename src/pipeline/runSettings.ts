/**
 * Values for a run's settings record (runState.ts): fingerprints of what a run starts from (the
 * model's weights in memory, a classifier, the training examples) and canonical text for targets,
 * prompts and lists, so that two runs with the same inputs record the same values.
 */
import { createHash } from "node:crypto";
import { sha256Weights } from "../audit/runFingerprints";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "./latentDiffusionModel";
import type { SettingValue } from "./runState";

/**
 * SHA-256 of a model as it is in memory: its config, vocabulary and every weight (taken before
 * tuning starts, it identifies what the run started from; a resumed run must start from it too).
 */
export async function modelFingerprint(model: LatentDiffusionModel): Promise<string> {
  const checkpoint = await model.toCheckpoint();
  const weights = Object.fromEntries(
    Object.entries(checkpoint.tensors).map(([name, t]) => [name, t.values]),
  );
  return createHash("sha256")
    .update(JSON.stringify({ config: model.config, tokenizer: model.tokenizer.toJSON() }))
    .update(sha256Weights(weights))
    .digest("hex");
}

/** SHA-256 of a subgroup classifier: its heads, calibration temperatures and weights. */
export async function classifierFingerprint(classifier: SubgroupClassifier): Promise<string> {
  return createHash("sha256")
    .update(JSON.stringify({ tasks: classifier.tasks, temperatures: classifier.temperatures }))
    .update(sha256Weights(await classifier.network.getWeights()))
    .digest("hex");
}

/** SHA-256 of training examples in order: each image's pixels, and its prompt and groups if any. */
export function examplesFingerprint(
  examples: readonly {
    image: { data: Float32Array };
    prompt?: string;
    attributes?: Readonly<Record<string, string>>;
  }[],
): string {
  const hash = createHash("sha256");
  for (const example of examples) {
    const { data } = example.image;
    hash.update(`${data.length};`);
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    hash.update(JSON.stringify([example.prompt ?? null, sortedEntries(example.attributes ?? {})]));
  }
  return hash.digest("hex");
}

/** "sex=Female:0.5,Male:0.5 race=…", attributes and groups by name (the CLI's --target syntax). */
export function targetSetting(target: Readonly<Record<string, Readonly<Record<string, number>>>>) {
  return sortedEntries(target)
    .map(
      ([attribute, groups]) =>
        `${attribute}=${sortedEntries(groups)
          .map(([group, p]) => `${group}:${p}`)
          .join(",")}`,
    )
    .join(" ");
}

/** Prompts quoted, in order (the order decides which prompt a step uses). */
export function promptsSetting(prompts: readonly string[]): string {
  return prompts.map((p) => JSON.stringify(p)).join(", ");
}

/** A long list of texts as its count and SHA-256 (in order: draws index it). */
export function textsFingerprint(texts: readonly string[]): string {
  const digest = createHash("sha256").update(JSON.stringify(texts)).digest("hex");
  return `${texts.length} texts, sha256 ${digest}`;
}

/** A list as "a,b,c"; undefined stays "none". */
export function listSetting(values: ArrayLike<number | string> | undefined): SettingValue {
  return values === undefined ? null : Array.from(values).join(",");
}

function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
