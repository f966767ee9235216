/**
 * The embedded end-to-end study, headless: load the default model (cxr-mini) and its cohort
 * classifier → audit the neutral Pleural Effusion prompt → fix the sex bias with Method 1
 * (distributional alignment) for a short run → audit again with the same seed → write one
 * self-contained HTML page with both audits. Returns plain values; `fairdiff start` is a view.
 */
import type { AuditReportData } from "../audit/auditReportSchema";
import type { AuditReport } from "../audit/auditReport";
import { heldOutRealSamples } from "../audit/qualityImageSet";
import { runAudit, type AuditProgress, type RunAuditQualityOptions } from "../audit/runAudit";
import { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { defineAttribute } from "../data/subgroups";
import { uniformTarget } from "../data/targetDistribution";
import type { Interval } from "../fairness/interval";
import { shippedModelPath } from "../features/packageRoot";
import { writeFileAtomic } from "../io/atomicWrite";
import { distributionalAlignment } from "../methods/distributionalAlignment";
import type { TargetDistributions } from "../methods/methodEvents";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { trainingPreset } from "../pipeline/presets";
import { createRng } from "../util/random";
import { studyReportPage } from "./studyReportPage";
import { studySettings, type StudySettings } from "./studySettings";

export type StudyProgress =
  | { stage: "load"; model: string; classifier: string }
  | { stage: "audit-before" | "audit-after"; part: string; done: number; total: number }
  | {
      stage: "fix";
      step: number;
      totalSteps: number;
      loss: number;
      /** Shen bias of this step's batch against the target. */
      batchBias: number;
    }
  | { stage: "report"; file: string };

export interface StudyOptions {
  /** Small settings (tests, a first look); default false. */
  quick?: boolean;
  /** Changes to the quick or full settings. */
  settings?: Partial<StudySettings>;
  /** Default: the shipped models/cxr-mini.fdckpt and models/cxr-classifier.fdckpt. */
  modelFile?: string;
  classifierFile?: string;
  /** The HTML page to write. */
  out: string;
  /** Also write both audit reports and the headline as JSON. */
  json?: string;
  signal?: AbortSignal;
  onProgress?: (progress: StudyProgress) => void;
}

/** One attribute of one audit, as plain numbers. */
export interface StudyAttribute {
  attribute: string;
  groups: string[];
  target: number[];
  shares: Interval[];
  /** Confusion-corrected shares, when the classifier has a held-out confusion matrix. */
  corrected?: Interval[];
  bias: Interval;
  /** FID per group and ES-FID, when the quality audit ran and covers this attribute. */
  fidByGroup?: number[];
  esFid?: number;
}

export interface StudyAudit {
  attributes: StudyAttribute[];
  /** FID of all generated vs all real images, when the quality audit ran. */
  fid?: number;
  report: AuditReportData;
}

export interface StudyTrainingStep {
  step: number;
  loss: number;
  batchBias: number;
}

export interface StudyResult {
  settings: StudySettings;
  modelFile: string;
  classifierFile: string;
  before: StudyAudit;
  after: StudyAudit;
  training: { steps: StudyTrainingStep[]; aborted: boolean; elapsedMs: number };
  /** The fixed attribute's bias before and after (Shen et al.; 0 = on target). */
  headline: { attribute: string; biasBefore: number; biasAfter: number };
  files: string[];
  elapsedMs: number;
}

/** The plain numbers of one audit (the report keeps everything else). */
export function studyAudit(report: AuditReport, prompt: string, attributes: string[]): StudyAudit {
  const quality = report.quality;
  return {
    attributes: attributes.map((name) => {
      const a = report.attribute(prompt, name);
      const q = quality?.byAttribute.find((g) => g.attribute === name);
      return {
        attribute: name,
        groups: [...a.groups],
        target: [...a.target],
        shares: a.proportions.map((p) => ({ ...p })),
        ...(a.corrected ? { corrected: a.corrected.map((p) => ({ ...p })) } : {}),
        bias: { ...a.bias },
        ...(q
          ? { fidByGroup: a.groups.map((g) => q.perGroup[q.groups.indexOf(g)]?.value ?? NaN) }
          : {}),
        ...(q ? { esFid: q.esFid } : {}),
      };
    }),
    ...(quality ? { fid: quality.overall.value } : {}),
    report: report.toJSON() as unknown as AuditReportData,
  };
}

export async function runStudy(options: StudyOptions): Promise<StudyResult> {
  const started = performance.now();
  const settings = studySettings(options.quick ?? false, options.settings);
  const modelFile = options.modelFile ?? shippedModelPath("cxr-mini.fdckpt");
  const classifierFile = options.classifierFile ?? shippedModelPath("cxr-classifier.fdckpt");
  const progress = options.onProgress ?? (() => {});
  progress({ stage: "load", model: modelFile, classifier: classifierFile });
  const classifier = SubgroupClassifier.load(classifierFile);
  let model: LatentDiffusionModel | undefined;
  try {
    model = LatentDiffusionModel.load(modelFile);
    const tuned = model;
    const groups = classifier.task(settings.fixAttribute).classes;
    const target: TargetDistributions = {
      [settings.fixAttribute]: { ...uniformTarget(defineAttribute(settings.fixAttribute, groups)) },
    };

    const audit = async (stage: "audit-before" | "audit-after"): Promise<StudyAudit> => {
      const report = await runAudit(tuned, classifier, {
        title:
          stage === "audit-before" ? "Before: cxr-mini as shipped" : "After: Method 1 fine-tuning",
        prompts: [settings.prompt],
        imagesPerPrompt: settings.imagesPerAudit,
        seed: settings.seed,
        attributes: settings.attributes,
        generation: { steps: settings.samplerSteps },
        resamples: settings.resamples,
        modelFile: stage === "audit-before" ? modelFile : undefined,
        classifierFile,
        quality: qualityOptions(tuned, settings),
        signal: options.signal,
        onProgress: (p: AuditProgress) =>
          progress({
            stage,
            part: p.stage === "representation" ? "images" : `quality ${p.step ?? ""}`.trim(),
            done: p.done,
            total: p.total,
          }),
      });
      return studyAudit(report, settings.prompt, settings.attributes);
    };

    const before = await audit("audit-before");
    const fixStarted = performance.now();
    const steps: StudyTrainingStep[] = [];
    let aborted = false;
    for await (const event of distributionalAlignment(tuned, classifier, {
      steps: settings.alignment.steps,
      seed: createRng(settings.seed).fork("study-alignment").uint32() % 2 ** 31,
      prompts: [settings.prompt],
      target: () => target,
      batchSize: settings.alignment.batchSize,
      learningRate: settings.alignment.learningRate,
      sampler: settings.alignment.sampler,
      trainable: settings.alignment.trainable,
      signal: options.signal,
    })) {
      if (event.type === "step") {
        const step = {
          step: event.step,
          loss: event.losses.total,
          batchBias: event.biasEstimate[settings.fixAttribute] ?? NaN,
        };
        steps.push(step);
        progress({ stage: "fix", totalSteps: event.totalSteps, ...step });
      } else if (event.type === "done") {
        aborted = event.aborted;
      }
    }
    if (options.signal?.aborted) throw new Error("study aborted");
    const training = { steps, aborted, elapsedMs: performance.now() - fixStarted };
    const after = await audit("audit-after");

    const biasOf = (a: StudyAudit) =>
      a.attributes.find((x) => x.attribute === settings.fixAttribute)!.bias.estimate;
    const partial: Omit<StudyResult, "files" | "elapsedMs"> = {
      settings,
      modelFile,
      classifierFile,
      before,
      after,
      training,
      headline: {
        attribute: settings.fixAttribute,
        biasBefore: biasOf(before),
        biasAfter: biasOf(after),
      },
    };
    writeFileAtomic(options.out, studyReportPage(partial));
    progress({ stage: "report", file: options.out });
    const files = options.json === undefined ? [options.out] : [options.out, options.json];
    const result: StudyResult = { ...partial, files, elapsedMs: performance.now() - started };
    if (options.json !== undefined) {
      writeFileAtomic(options.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    model?.dispose();
    classifier.dispose();
  }
}

/** Held-out real images of the model's training preset, when the settings ask for a quality audit. */
function qualityOptions(
  model: LatentDiffusionModel,
  settings: StudySettings,
): RunAuditQualityOptions | undefined {
  if (settings.realImages === 0) return undefined;
  const presetName = model.info.preset;
  if (typeof presetName !== "string") {
    throw new Error(
      "the quality audit needs held-out real images: the model records no training preset (set realImages: 0)",
    );
  }
  const preset = trainingPreset(presetName);
  const seed = 99;
  return {
    real: heldOutRealSamples(preset, { size: settings.realImages, seed }),
    realDescription: `${preset.cohort} cohort (${preset.name} mix), held-out draw of ${settings.realImages} images, seed ${seed}`,
    attributes: settings.attributes,
  };
}
