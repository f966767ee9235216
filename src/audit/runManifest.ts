/**
 * The run manifest of an audit: what was audited (model and classifier, each fingerprinted),
 * how (seed, prompts, sampler, targets), where (backend, versions) and on which real data, so a
 * reader can tell whether two reports are comparable and a colleague can re-run one.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as path from "node:path";
import { backendInfo } from "../backend/backendInfo";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type { CheckpointSource } from "../pipeline/pretrainedSource";
import type { SchedulerName } from "../schedulers/createScheduler";
import { sha256File, sha256Weights } from "./runFingerprints";

export interface ModelIdentity {
  /** Base name of the checkpoint file, when the model was loaded from one. */
  file?: string;
  /** SHA-256 of the checkpoint file's bytes. */
  sha256?: string;
  /** SHA-256 of the weights in memory (defined with or without a file). */
  weightsSha256: string;
  preset?: string;
  description?: string;
  /** Everything the trainer recorded in the checkpoint (steps, seeds, cohort mix…). */
  info: Record<string, unknown>;
  parameters: { textEncoder: number; autoencoder: number; unet: number };
}

export interface ClassifierHeadIdentity {
  task: string;
  kind: string;
  classes: string[];
  /** Held-out accuracy and per-class recall; absent when the classifier carries no evaluation. */
  accuracy?: number;
  perClassAccuracy?: number[];
  /** Held-out images behind the accuracy. */
  heldOut?: number;
}

export interface ClassifierIdentity {
  file?: string;
  sha256?: string;
  weightsSha256: string;
  heads: ClassifierHeadIdentity[];
  provenance: Record<string, unknown>;
}

export interface SamplerSettings {
  scheduler: SchedulerName;
  steps: number;
  guidanceScale: number;
  eta: number;
}

export interface RealDataIdentity {
  /** Where the real images came from, in words (cohort and seed, or a dataset folder). */
  description: string;
  images: number;
  /** sha256Images over the real images in the order the quality audit used them. */
  sha256: string;
}

export interface RunManifest {
  model: ModelIdentity;
  classifier: ClassifierIdentity;
  seed: number;
  prompts: string[];
  imagesPerPrompt: number;
  /** Attribute heads audited, and intersections ("sex×race" from ["sex", "race"]). */
  attributes: string[];
  intersections: string[][];
  /** Targets given by the user; any attribute not named here was audited against uniform. */
  targets: Record<string, Record<string, number>>;
  sampler: SamplerSettings;
  /** Bootstrap resamples behind every percentile interval. */
  resamples: number;
  backend: { name: string; source: string; addedKernels: string[]; adapter?: string };
  versions: { fairdiff: string; tfjsCore: string; node: string; platform: string };
  /** The real images the quality audit compared against (absent without a quality audit). */
  data?: RealDataIdentity;
  elapsedMs: { representation: number; quality?: number; total: number };
}

/** Defaults of generateImages and attributeRepresentation, recorded so the manifest is explicit. */
export const DEFAULT_SAMPLER: SamplerSettings = {
  scheduler: "ddim",
  steps: 25,
  guidanceScale: 3,
  eta: 0,
};
export const DEFAULT_RESAMPLES = 2000;

let cachedVersion: string | undefined;

/** The version in the fairdiff package.json above this file (src/ or dist/src/). */
export function fairdiffVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "fairdiff") return (cachedVersion = pkg.version ?? "unknown");
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}

/**
 * The file to name: the one given, else the one the model or classifier was loaded from (or
 * saved to) if its weights are still those — a fine-tuned model is no longer that file.
 */
function fileIdentity(
  given: string | undefined,
  source: CheckpointSource | undefined,
  weightsSha256: string,
): { file?: string; sha256?: string } {
  if (given !== undefined) return { file: path.basename(given), sha256: sha256File(given) };
  if (source !== undefined && source.weightsSha256 === weightsSha256) {
    return { file: path.basename(source.file), sha256: source.sha256 };
  }
  return {};
}

/** `file` defaults to `model.source` while the weights match it. */
export async function modelIdentity(
  model: LatentDiffusionModel,
  file?: string,
): Promise<ModelIdentity> {
  const checkpoint = await model.toCheckpoint();
  const weights = Object.fromEntries(
    Object.entries(checkpoint.tensors).map(([name, t]) => [name, t.values]),
  );
  const weightsSha256 = sha256Weights(weights);
  const info = model.info;
  return {
    ...fileIdentity(file, model.source, weightsSha256),
    weightsSha256,
    ...(typeof info.preset === "string" ? { preset: info.preset } : {}),
    ...(typeof info.description === "string" ? { description: info.description } : {}),
    info: JSON.parse(JSON.stringify(info)) as Record<string, unknown>,
    parameters: model.parameterCount(),
  };
}

/** `file` defaults to `classifier.source` while the weights match it. */
export async function classifierIdentity(
  classifier: SubgroupClassifier,
  file?: string,
): Promise<ClassifierIdentity> {
  const weightsSha256 = sha256Weights(await classifier.network.getWeights());
  return {
    ...fileIdentity(file, classifier.source, weightsSha256),
    weightsSha256,
    heads: classifier.tasks.map((task) => {
      const evaluation = classifier.evaluation.find((e) => e.task === task.name);
      return {
        task: task.name,
        kind: task.kind,
        classes: [...task.classes],
        ...(evaluation
          ? {
              accuracy: evaluation.accuracy,
              perClassAccuracy: [...evaluation.perClassAccuracy],
              heldOut: evaluation.n,
            }
          : {}),
      };
    }),
    provenance: JSON.parse(JSON.stringify(classifier.provenance)) as Record<string, unknown>,
  };
}

/** The backend and versions of this process (the backend must have been chosen). */
export function runEnvironment(): Pick<RunManifest, "backend" | "versions"> {
  const info = backendInfo();
  return {
    backend: {
      name: info.name,
      source: info.source,
      addedKernels: [...info.addedKernels],
      ...(info.adapter === undefined ? {} : { adapter: info.adapter }),
    },
    versions: {
      fairdiff: fairdiffVersion(),
      tfjsCore: tf.version_core,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
  };
}
