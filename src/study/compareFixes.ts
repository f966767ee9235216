/**
 * The fixes side by side: plain fine-tuning and the three methods, each from a fresh copy of the
 * same base model, with the same prompts, target, fine-tuning seed and budget (steps × images
 * per step), each result audited by the same audit (same prompts, seed, sampler and held-out real
 * images), plus the base model's own audit as the first row. Every fix's wall time is recorded,
 * since the same images per step cost very different amounts of compute in each method.
 *
 * Returns a FixComparison (plain values; `fairdiff compare` is a view). The papers each compare
 * against their own baseline only; here every row went through one harness.
 */
import type { AuditReportData } from "../audit/auditReportSchema";
import { heldOutRealSamples, presetTrainingImages } from "../audit/qualityImageSet";
import { runAudit, type AuditProgress, type RunAuditQualityOptions } from "../audit/runAudit";
import { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shippedModelPath } from "../features/packageRoot";
import type { MethodEvent } from "../methods/methodEvents";
import { runMethod } from "../methods/runMethod";
import { FIX_LABELS, startFix, type FixName } from "../methods/startFix";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { trainingPreset, type TrainingPreset } from "../pipeline/presets";
import {
  comparisonSettings,
  type ComparisonOverrides,
  type ComparisonSettings,
} from "./comparisonSettings";
import {
  FIX_COMPARISON_KIND,
  FIX_COMPARISON_SCHEMA_VERSION,
  type ComparisonRow,
  type FixComparisonData,
} from "./fixComparison";

export type ComparisonProgress =
  | { stage: "audit"; row: FixName | "base"; part: string; done: number; total: number }
  | { stage: "fix"; row: FixName; step: number; totalSteps: number; loss: number };

export interface CompareFixesOptions {
  /** Small settings (CI, a first look); default false. */
  quick?: boolean;
  /** Changes to the quick or full settings. */
  settings?: ComparisonOverrides;
  /** Default: the shipped models/cxr-mini.fdckpt and models/cxr-classifier.fdckpt. */
  modelFile?: string;
  classifierFile?: string;
  signal?: AbortSignal;
  onProgress?: (progress: ComparisonProgress) => void;
}

/** The base model's preset: the source of held-out real images and of training images. */
function presetOf(model: LatentDiffusionModel, modelFile: string): TrainingPreset {
  const name = model.info.preset;
  if (typeof name !== "string") {
    throw new Error(
      `${modelFile}: the model records no training preset, so there are no held-out real images or training images to audit quality and memorisation against`,
    );
  }
  return trainingPreset(name);
}

function qualityOptions(
  preset: TrainingPreset,
  settings: ComparisonSettings,
): RunAuditQualityOptions | undefined {
  const audit = settings.audit;
  if (audit.realImages === 0) return undefined;
  const real = heldOutRealSamples(preset, { size: audit.realImages, seed: audit.realSeed });
  const quality: RunAuditQualityOptions = {
    real,
    realDescription: `${preset.cohort} cohort (${preset.name} mix), held-out draw of ${audit.realImages} images, seed ${audit.realSeed}`,
    attributes: settings.attributes,
    clinical: audit.clinical,
  };
  if (audit.memorisationImages > 0) {
    const training = presetTrainingImages(
      preset,
      Math.min(audit.memorisationImages, preset.cohortSize),
    );
    quality.memorisation = {
      training: training.images,
      trainingDescription: training.description,
    };
  }
  return quality;
}

export async function compareFixes(options: CompareFixesOptions = {}): Promise<FixComparisonData> {
  const started = performance.now();
  const settings = comparisonSettings(options.quick ?? false, options.settings);
  const modelFile = options.modelFile ?? shippedModelPath("cxr-mini.fdckpt");
  const classifierFile = options.classifierFile ?? shippedModelPath("cxr-classifier.fdckpt");
  const progress = options.onProgress ?? (() => {});
  const classifier = SubgroupClassifier.load(classifierFile);
  try {
    for (const name of Object.keys(settings.target)) classifier.task(name);
    for (const name of settings.attributes) classifier.task(name);
    const rows: ComparisonRow[] = [];

    const audit = async (
      model: LatentDiffusionModel,
      row: FixName | "base",
      quality: RunAuditQualityOptions | undefined,
    ): Promise<{ report: AuditReportData; auditMs: number }> => {
      const auditStarted = performance.now();
      const report = await runAudit(model, classifier, {
        title: row === "base" ? "Base model" : FIX_LABELS[row],
        prompts: settings.prompts,
        imagesPerPrompt: settings.audit.imagesPerPrompt,
        seed: settings.auditSeed,
        attributes: settings.attributes,
        targets: settings.target,
        generation: { steps: settings.audit.samplerSteps },
        resamples: settings.audit.resamples,
        ...(row === "base" ? { modelFile } : {}),
        classifierFile,
        quality,
        signal: options.signal,
        onProgress: (p: AuditProgress) =>
          progress({
            stage: "audit",
            row,
            part: p.stage === "representation" ? "images" : `quality ${p.step ?? ""}`.trim(),
            done: p.done,
            total: p.total,
          }),
      });
      return { report: report.data(), auditMs: performance.now() - auditStarted };
    };

    const base = LatentDiffusionModel.load(modelFile);
    let quality: RunAuditQualityOptions | undefined;
    try {
      quality = qualityOptions(presetOf(base, modelFile), settings);
      const { report, auditMs } = await audit(base, "base", quality);
      rows.push({ fix: "base", label: "base model", auditMs, report });
    } finally {
      base.dispose();
    }

    for (const fix of settings.fixes) {
      const model = LatentDiffusionModel.load(modelFile);
      try {
        const fixStarted = performance.now();
        const result = await runMethod(
          startFix(fix, model, classifier, {
            steps: settings.steps,
            seed: settings.seed,
            batchSize: settings.batchSize,
            prompts: settings.prompts,
            target: settings.target,
            classifier,
            signal: options.signal,
          }),
          {
            onEvent: (event: MethodEvent) => {
              if (event.type === "step") {
                progress({
                  stage: "fix",
                  row: fix,
                  step: event.step,
                  totalSteps: event.totalSteps,
                  loss: event.losses.total,
                });
              }
            },
          },
        );
        const fineTuneMs = performance.now() - fixStarted;
        if (options.signal?.aborted) throw new Error("comparison aborted");
        const { report, auditMs } = await audit(model, fix, quality);
        rows.push({
          fix,
          label: FIX_LABELS[fix],
          cost: {
            steps: result.stepsDone,
            imagesPerStep: settings.batchSize,
            images: result.stepsDone * settings.batchSize,
            fineTuneMs,
            finalLoss: result.finalLoss,
          },
          auditMs,
          report,
        });
      } finally {
        model.dispose();
      }
    }
    const data: FixComparisonData = {
      kind: FIX_COMPARISON_KIND,
      schemaVersion: FIX_COMPARISON_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      settings,
      modelFile,
      classifierFile,
      rows,
      elapsedMs: performance.now() - started,
    };
    return data;
  } finally {
    classifier.dispose();
  }
}
