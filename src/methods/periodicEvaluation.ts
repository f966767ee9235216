/**
 * The evaluation every mitigation method runs every k steps: seeded images for the evaluation
 * prompts, classified by the subgroup classifier, pooled over prompts into per-attribute
 * proportions with Wilson intervals and Shen et al.'s bias against the current target; plus an
 * optional quality audit (FID per group, ES-FID) supplied by the caller. Each evaluation times
 * itself, and an `EvaluationClock` keeps the share of the run's wall time spent evaluating, so a
 * user can see what the curves cost.
 */
import type { QualityAudit } from "../audit/qualityTypes";
import { auditRepresentation, type RepresentationAuditOptions } from "../audit/representationAudit";
import type { SubgroupClassifier } from "../classifiers/subgroupClassifier";
import { shenBias } from "../fairness/representationMetrics";
import { wilsonInterval } from "../fairness/wilsonInterval";
import type { LatentDiffusionModel } from "../pipeline/latentDiffusionModel";
import type {
  AttributeProportions,
  MethodEvaluationEvent,
  MethodName,
  TargetDistributions,
} from "./methodEvents";

/** Wall time of a run and the part of it spent in evaluations. */
export class EvaluationClock {
  private readonly started: number;
  private spent = 0;

  constructor(startedAt = performance.now()) {
    this.started = startedAt;
  }

  /** Adds one evaluation's cost. */
  record(ms: number): void {
    if (!(ms >= 0)) throw new Error(`evaluation time must be ≥ 0 ms, got ${ms}`);
    this.spent += ms;
  }

  get evaluationMs(): number {
    return this.spent;
  }

  get runMs(): number {
    return performance.now() - this.started;
  }

  /** evaluation ms / run ms so far (0 before any time has passed). */
  share(): number {
    const run = this.runMs;
    return run > 0 ? Math.min(1, this.spent / run) : 0;
  }
}

export interface EvaluationSettings {
  prompts: string[];
  /** Images generated per prompt. */
  imagesPerPrompt: number;
  seed: number;
  /** Classifier heads to report (default: every attribute head). */
  attributes?: string[];
  generation?: RepresentationAuditOptions["generation"];
  /** Runs the quality audit on the model as it is now (e.g. a closure over auditQuality). */
  quality?: (model: LatentDiffusionModel) => Promise<QualityAudit>;
}

/** Evaluation settings as a method takes them: plus how often. */
export interface MethodEvaluationOptions extends EvaluationSettings {
  /** Evaluate every `every` steps, before the first step and after the last. */
  every: number;
}

export interface EvaluationContext {
  method: MethodName;
  step: number;
  target: TargetDistributions;
  clock?: EvaluationClock;
  signal?: AbortSignal;
}

/** Checks evaluation settings up front, so a bad one fails before any training. */
export function checkEvaluationOptions(options: MethodEvaluationOptions): void {
  if (!Number.isInteger(options.every) || options.every < 1) {
    throw new Error(`evaluation.every must be a positive integer, got ${options.every}`);
  }
  checkEvaluationSettings(options);
}

function checkEvaluationSettings(options: EvaluationSettings): void {
  if (options.prompts.length === 0) throw new Error("evaluation needs at least one prompt");
  if (!Number.isInteger(options.imagesPerPrompt) || options.imagesPerPrompt < 2) {
    throw new Error(
      `evaluation imagesPerPrompt must be an integer ≥ 2, got ${options.imagesPerPrompt}`,
    );
  }
}

export async function periodicEvaluation(
  model: LatentDiffusionModel,
  classifier: SubgroupClassifier,
  settings: EvaluationSettings,
  context: EvaluationContext,
): Promise<MethodEvaluationEvent> {
  checkEvaluationSettings(settings);
  const started = performance.now();
  const audit = await auditRepresentation(model, classifier, {
    prompts: settings.prompts,
    imagesPerPrompt: settings.imagesPerPrompt,
    seed: settings.seed,
    attributes: settings.attributes,
    targets: context.target,
    generation: settings.generation,
    // Only pooled counts are reported; keep the per-prompt bootstrap cheap.
    resamples: 50,
    signal: context.signal,
  });
  const attributes: AttributeProportions[] = audit[0].attributes.map((first, a) => {
    const counts = first.groups.map((_, g) =>
      audit.reduce((sum, prompt) => sum + prompt.attributes[a].counts[g], 0),
    );
    const n = counts.reduce((s, c) => s + c, 0);
    const proportions = counts.map((c) => c / n);
    return {
      attribute: first.attribute,
      groups: first.groups,
      proportions,
      intervals: counts.map((c) => wilsonInterval(c, n)),
      target: first.target,
      bias: shenBias(proportions, first.target),
      n,
    };
  });
  const quality = settings.quality ? await settings.quality(model) : undefined;
  const elapsedMs = performance.now() - started;
  context.clock?.record(elapsedMs);
  return {
    type: "evaluation",
    method: context.method,
    step: context.step,
    attributes,
    ...(quality ? { quality } : {}),
    elapsedMs,
    evaluationShare: context.clock?.share() ?? 1,
  };
}

/** Whether a method evaluates after `stepsDone` steps (start, every k, and the last step). */
export function evaluationDue(
  options: MethodEvaluationOptions | undefined,
  stepsDone: number,
  totalSteps: number,
): boolean {
  if (!options) return false;
  return stepsDone === 0 || stepsDone === totalSteps || stepsDone % options.every === 0;
}
