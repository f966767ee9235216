/**
 * An audit as a plain request — checkpoint paths, prompts, counts, seeds, sampler, target and
 * quality settings — that any process can open: the command line (whole or one shard), a local
 * worker process, a queue worker on another machine. Opening it loads the models, checks every
 * setting against the classifier, and builds the library's RunAuditOptions; the same request
 * opens to the same audit (the same fingerprint) wherever the files are the same.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { namedGroup } from "../audit/promptAdherence";
import { heldOutRealSamples, presetTrainingImages } from "../audit/qualityImageSet";
import type { RunAuditOptions, RunAuditQualityOptions } from "../audit/runAudit";
import { useBackend } from "../backend";
import type { BackendRequest } from "../backend/backendInfo";
import { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import type { FeatureExtractor } from "../features/featureExtractor";
import { graphModelExtractor } from "../features/graphModelExtractor";
import { shippedModelPath } from "../features/packageRoot";
import { projectEncoderExtractor } from "../features/projectEncoderExtractor";
import { radiomicExtractor } from "../features/radiomicExtractor";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { trainingPreset } from "../pipeline/presets";
import type { SchedulerName } from "../schedulers/createScheduler";
import { checkImageCount } from "../cli/imageBudget";
import { checkTargets, groupsWithIntersections, parseTargetSpecs } from "../cli/targetOption";

export interface AuditQualityRequest {
  /** Held-out real images drawn from the model's training preset, and their cohort seed. */
  real: number;
  realSeed: number;
  /** "project" | "radiomic" | a tfjs graph model folder. */
  extractor: string;
  equalGroups: boolean;
  kid: boolean;
  memorisation: boolean;
}

export interface AuditRequest {
  /**
   * Checkpoints as given (a path every machine can read, e.g. on a shared mount); absent: the
   * shipped models, each machine's own copy. The audit's fingerprint checks they are the same.
   */
  model?: string;
  classifier?: string;
  prompts: string[];
  imagesPerPrompt: number;
  seed: number;
  steps: number;
  guidanceScale: number;
  scheduler: SchedulerName;
  resamples: number;
  /** Command-line specs, checked against the classifier's heads when it loads. */
  target: string[];
  intersections?: string;
  attributes?: string;
  quality?: AuditQualityRequest;
  /** The backend by name; a coordinator sends the one it resolved, so workers use the same. */
  backend?: string;
}

/** An opened request: the models, the library's options; dispose it when done. */
export interface OpenedAudit {
  model: LatentDiffusionModel;
  classifier: SubgroupClassifier;
  options: RunAuditOptions;
  modelFile: string;
  classifierFile: string;
  dispose(): void;
}

export const SCHEDULERS: readonly SchedulerName[] = ["ddim", "ddpm", "dpm-solver++"];

function load<T>(what: string, file: string, loader: (file: string) => T): T {
  try {
    return loader(file);
  } catch (error) {
    throw new Error(`--${what} "${file}": ${(error as Error).message}`);
  }
}

/** "sex,race;sex,ageBand" → [["sex","race"],["sex","ageBand"]], each name an attribute head. */
export function parseIntersections(spec: string, attributes: readonly string[]): string[][] {
  return spec
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const names = part.split(",").map((n) => n.trim());
      if (names.length < 2 || names.some((n) => n === ""))
        throw new Error(
          `--intersections "${part}" must name two or more attributes, e.g. sex,race`,
        );
      for (const name of names) {
        if (!attributes.includes(name))
          throw new Error(
            `--intersections names unknown attribute "${name}" (classifier attributes: ${attributes.join(", ")})`,
          );
      }
      if (new Set(names).size !== names.length)
        throw new Error(`--intersections "${part}" names an attribute twice`);
      return names;
    });
}

async function featureExtractor(
  spec: string,
  classifierFile: string,
  channels: number,
): Promise<FeatureExtractor> {
  if (spec === "project") {
    // Its own copy: the extractor disposes the classifier it wraps.
    return projectEncoderExtractor(load("classifier", classifierFile, SubgroupClassifier.load));
  }
  if (spec === "radiomic") return radiomicExtractor({ channels });
  if (!fs.existsSync(path.join(spec, "model.json")))
    throw new Error(
      `--extractor "${spec}" is not "project", "radiomic" or a folder holding a tfjs graph model (model.json)`,
    );
  return graphModelExtractor(spec);
}

/** Attributes the real captions name: only those can be split on the generated side. */
function namedInCaptions(
  attributes: readonly string[],
  classifier: SubgroupClassifier,
  captions: readonly string[],
): string[] {
  return attributes.filter((name) => {
    const groups = classifier.task(name).classes;
    return captions.some((caption) => namedGroup(caption, groups) !== undefined);
  });
}

/** A prompt quoted in a note: the first 80 characters are enough to recognise it. */
function shortened(prompt: string): string {
  return prompt.length > 80 ? `${prompt.slice(0, 80)}…` : prompt;
}

/** The checkpoint files a request names (the shipped ones when it names none). */
export function requestFiles(request: AuditRequest): { model: string; classifier: string } {
  return {
    model: request.model ?? shippedModelPath("cxr-mini.fdckpt"),
    classifier: request.classifier ?? shippedModelPath("cxr-classifier.fdckpt"),
  };
}

/**
 * Chooses the backend, loads the models, checks the request against them and builds the audit's
 * options. `notes` receives the tokenizer's notes on the prompts.
 */
export async function openAudit(
  request: AuditRequest,
  notes: (line: string) => void = () => {},
): Promise<OpenedAudit> {
  // The target's syntax first: a typo fails before anything loads.
  const targetSpecs = parseTargetSpecs(request.target);
  await useBackend(request.backend as BackendRequest | undefined);
  const files = requestFiles(request);
  const classifier = load("classifier", files.classifier, SubgroupClassifier.load);
  let model: LatentDiffusionModel | undefined;
  let extractor: FeatureExtractor | undefined;
  const dispose = () => {
    extractor?.dispose();
    model?.dispose();
    classifier.dispose();
  };
  try {
    const heads = classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
    const attributes =
      request.attributes === undefined
        ? heads
        : request.attributes.split(",").map((name) => {
            const trimmed = name.trim();
            if (!heads.includes(trimmed))
              throw new Error(
                `--attributes names unknown attribute "${trimmed}" (classifier attributes: ${heads.join(", ")})`,
              );
            return trimmed;
          });
    const intersections =
      request.intersections === undefined ? [] : parseIntersections(request.intersections, heads);
    const groupsOf = groupsWithIntersections(
      attributes,
      intersections,
      (name) => classifier.task(name).classes,
    );
    const targets = checkTargets(targetSpecs, groupsOf);

    model = load("model", files.model, LatentDiffusionModel.load);
    const { imageSize, imageChannels } = model.config;
    const perImage = `${imageSize}×${imageSize}×${imageChannels} float32 pixels, their copy for the classifier and its input`;
    const imageBytes = imageSize * imageSize * imageChannels * 4 * 3;
    checkImageCount("--n", request.imagesPerPrompt, imageBytes, perImage);
    if (request.quality) checkImageCount("--real", request.quality.real, imageBytes, perImage);
    for (const prompt of request.prompts) {
      for (const note of model.tokenizer.promptNotes(prompt))
        notes(`note: ${note} (in "${shortened(prompt)}")`);
    }

    let quality: RunAuditQualityOptions | undefined;
    if (request.quality) {
      const q = request.quality;
      const presetName = model.info.preset;
      if (typeof presetName !== "string")
        throw new Error(
          `--quality needs real images: the model records no training preset to draw a held-out cohort from`,
        );
      const preset = trainingPreset(presetName);
      const real = heldOutRealSamples(preset, { size: q.real, seed: q.realSeed });
      const training = q.memorisation ? presetTrainingImages(preset) : undefined;
      extractor = await featureExtractor(q.extractor, files.classifier, imageChannels);
      quality = {
        real,
        realDescription: `${preset.cohort} cohort (${preset.name} mix), held-out draw of ${q.real} images, seed ${q.realSeed}`,
        extractor,
        ...(q.equalGroups ? { equalGroupSizes: true } : {}),
        ...(q.kid ? {} : { kid: false }),
        ...(training
          ? {
              memorisation: {
                training: training.images,
                trainingDescription: training.description,
              },
            }
          : {}),
        attributes: namedInCaptions(
          attributes,
          classifier,
          real.map((s) => s.prompt),
        ),
      };
    }
    return {
      model,
      classifier,
      modelFile: files.model,
      classifierFile: files.classifier,
      options: {
        prompts: [...request.prompts],
        imagesPerPrompt: request.imagesPerPrompt,
        seed: request.seed,
        attributes,
        intersections,
        targets,
        generation: {
          steps: request.steps,
          guidanceScale: request.guidanceScale,
          scheduler: request.scheduler,
        },
        resamples: request.resamples,
        modelFile: files.model,
        classifierFile: files.classifier,
        quality,
      },
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
