/**
 * One run of a sweep: a fine-tuning method at one seed and one learning rate, through `startFix`
 * (the function `fairdiff finetune` and `fairdiff compare` start runs with), writing the tuned
 * model and a small JSON summary (first and last evaluation) into a folder every machine can
 * read. Idempotent: a run whose complete summary is there is not redone; a run killed midway
 * resumes from its state file there when retried. A summary of a run with other settings is
 * never overwritten.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { toJsonValue } from "../audit/reportJson";
import { useBackend } from "../backend";
import type { BackendRequest } from "../backend/backendInfo";
import { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shippedModelPath } from "../features/packageRoot";
import { writeFileAtomic } from "../io/atomicWrite";
import type { AttributeProportions, MethodName } from "../methods/methodEvents";
import { componentAttributes, startFix } from "../methods/startFix";
import { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import { parseTargetSpecs, targetsForClassifier } from "../cli/targetOption";
import { PermanentJobError } from "./workerJob";

export const SWEEP_SUMMARY_KIND = "fairdiff.sweep-run";

export interface SweepRun {
  method: MethodName;
  seed: number;
  learningRate: number;
  /** Checkpoints every machine can read (absent: the shipped models). */
  model?: string;
  classifier?: string;
  prompts: string[];
  /** --target specs, e.g. "sex=Female:0.5,Male:0.5". */
  target: string[];
  steps: number;
  batchSize?: number;
  /** Images per prompt and sampler steps of the start and end evaluations. */
  evalImages: number;
  evalSteps: number;
  /** align, subgroup: DDIM steps of the tuned sampler. */
  samplingSteps?: number;
  rank?: number;
  trainable?: "text-lora" | "unet-lora";
  /** perturb: training examples rendered from the model's preset. */
  cohortSize?: number;
  /** Steps between state files (a retried run resumes from the last). */
  checkpointEvery: number;
  /** The shared folder the model, state and summary go to. */
  outDir: string;
  backend?: string;
}

export interface SweepProgress {
  stage: "finetune";
  done: number;
  total: number;
}

/** An evaluation as the summary keeps it. */
export interface SweepEvaluation {
  step: number;
  attributes: Pick<
    AttributeProportions,
    "attribute" | "groups" | "proportions" | "target" | "bias" | "n"
  >[];
}

export interface SweepSummary {
  kind: typeof SWEEP_SUMMARY_KIND;
  schemaVersion: 1;
  name: string;
  method: MethodName;
  seed: number;
  learningRate: number;
  steps: number;
  /** SHA-256 of the run's settings: a summary answers for exactly these. */
  settingsSha256: string;
  /** The tuned model's file name, beside the summary. */
  modelFile: string;
  first?: SweepEvaluation;
  last?: SweepEvaluation;
  elapsedMs: number;
}

/** "align-seed3-lr0.003": a run's file stem in the sweep's folder. */
export function sweepRunName(run: Pick<SweepRun, "method" | "seed" | "learningRate">): string {
  return `${run.method}-seed${run.seed}-lr${run.learningRate}`;
}

export function sweepRunFiles(run: SweepRun): { model: string; state: string; summary: string } {
  const stem = path.join(run.outDir, sweepRunName(run));
  return { model: `${stem}.fdckpt`, state: `${stem}.state.fdckpt`, summary: `${stem}.json` };
}

/** The settings a summary answers for (not where it is written, nor the backend's name). */
export function sweepRunSha256(run: SweepRun): string {
  const { outDir: _o, backend: _b, ...settings } = run;
  return createHash("sha256")
    .update(JSON.stringify(toJsonValue(settings)))
    .digest("hex");
}

/** The complete summary already written for this run, if any; refuses one of another run. */
export function existingSweepSummary(run: SweepRun): SweepSummary | undefined {
  const files = sweepRunFiles(run);
  if (!fs.existsSync(files.summary)) return undefined;
  let summary: SweepSummary;
  try {
    summary = JSON.parse(fs.readFileSync(files.summary, "utf8")) as SweepSummary;
  } catch (error) {
    throw new PermanentJobError(
      `${files.summary} is not a readable sweep summary (${(error as Error).message}); move it away to redo the run`,
    );
  }
  if (summary.kind !== SWEEP_SUMMARY_KIND || summary.settingsSha256 !== sweepRunSha256(run)) {
    throw new PermanentJobError(
      `${files.summary} holds a run with other settings; give the sweep another --out-dir (nothing is overwritten)`,
    );
  }
  return fs.existsSync(files.model) ? summary : undefined;
}

function evaluationOf(event: {
  step: number;
  attributes: AttributeProportions[];
}): SweepEvaluation {
  return {
    step: event.step,
    attributes: event.attributes.map((a) => ({
      attribute: a.attribute,
      groups: [...a.groups],
      proportions: [...a.proportions],
      target: [...a.target],
      bias: a.bias,
      n: a.n,
    })),
  };
}

export async function runSweepJob(
  run: SweepRun,
  options: { signal?: AbortSignal; onProgress?: (progress: SweepProgress) => void } = {},
): Promise<SweepSummary> {
  const done = existingSweepSummary(run);
  if (done) return done;
  const started = Date.now();
  const files = sweepRunFiles(run);
  fs.mkdirSync(run.outDir, { recursive: true });
  await useBackend(run.backend as BackendRequest | undefined);
  const classifier = SubgroupClassifier.load(
    run.classifier ?? shippedModelPath("cxr-classifier.fdckpt"),
  );
  const model = LatentDiffusionModel.load(run.model ?? shippedModelPath("cxr-mini.fdckpt"));
  try {
    const target = targetsForClassifier(parseTargetSpecs(run.target), classifier);
    const events = startFix(run.method, model, classifier, {
      steps: run.steps,
      seed: run.seed,
      batchSize: run.batchSize,
      learningRate: run.learningRate,
      stateFile: files.state,
      checkpointEvery: run.checkpointEvery,
      evaluation: {
        every: run.steps,
        prompts: run.prompts,
        imagesPerPrompt: run.evalImages,
        seed: run.seed + 1000,
        attributes: componentAttributes(target),
        generation: { steps: run.evalSteps },
      },
      prompts: run.prompts,
      target,
      classifier,
      trainable: run.trainable,
      rank: run.rank,
      sampler: run.samplingSteps === undefined ? undefined : { steps: run.samplingSteps },
      cohortSize: run.cohortSize,
      signal: options.signal,
    });
    let first: SweepEvaluation | undefined;
    let last: SweepEvaluation | undefined;
    let aborted = false;
    for await (const event of events) {
      if (event.type === "step") {
        options.onProgress?.({ stage: "finetune", done: event.step, total: run.steps });
      } else if (event.type === "evaluation") {
        last = evaluationOf(event);
        first ??= last;
      } else if (event.type === "done") {
        aborted = event.aborted;
      }
    }
    if (aborted) throw new Error(`${sweepRunName(run)} stopped; its state is in ${files.state}`);
    model.info = {
      ...model.info,
      finetune: {
        method: run.method,
        target,
        prompts: run.prompts,
        steps: run.steps,
        seed: run.seed,
        learningRate: run.learningRate,
        complete: true,
      },
    };
    await model.save(files.model);
    const summary: SweepSummary = {
      kind: SWEEP_SUMMARY_KIND,
      schemaVersion: 1,
      name: sweepRunName(run),
      method: run.method,
      seed: run.seed,
      learningRate: run.learningRate,
      steps: run.steps,
      settingsSha256: sweepRunSha256(run),
      modelFile: path.basename(files.model),
      ...(first ? { first } : {}),
      ...(last ? { last } : {}),
      elapsedMs: Date.now() - started,
    };
    writeFileAtomic(files.summary, `${JSON.stringify(toJsonValue(summary), null, 1)}\n`);
    // The model and summary are written: the state file has nothing left to resume.
    fs.rmSync(files.state, { force: true });
    return summary;
  } finally {
    model.dispose();
    classifier.dispose();
  }
}
