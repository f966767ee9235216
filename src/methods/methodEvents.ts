/**
 * Typed events shared by the three bias-mitigation methods (align, subgroup, perturb), so one
 * progress bar, one widget dashboard and one test helper follow any of them.
 */
import type { QualityAudit } from "../audit/qualityTypes";
import type { Interval } from "../fairness/interval";

export type MethodName = "align" | "subgroup" | "perturb";

/** attribute → group → probability. Read through a getter every step, so it can change mid-run. */
export type TargetDistributions = Record<string, Record<string, number>>;
export type TargetGetter = () => TargetDistributions;

export interface MethodStepEvent {
  type: "step";
  method: MethodName;
  step: number;
  totalSteps: number;
  /** Named loss terms of this step (e.g. total, fairness, semantic, distribution, consistency). */
  losses: Record<string, number>;
  /** The target this step used (after validation), attribute → group → p. */
  target: TargetDistributions;
  /** Method-specific state: align's per-image targets, perturb's σ, … */
  detail: Record<string, unknown>;
  /** Running estimate of the bias (attribute → Shen bias against the target) from this step's batch. */
  biasEstimate: Record<string, number>;
  learningRate: number;
  imagesPerSecond: number;
  elapsedMs: number;
}

export interface AttributeProportions {
  attribute: string;
  groups: string[];
  proportions: number[];
  intervals: Interval[];
  target: number[];
  /** Shen et al.'s bias against the target. */
  bias: number;
  n: number;
}

export interface MethodEvaluationEvent {
  type: "evaluation";
  method: MethodName;
  step: number;
  /** Audited proportions over the evaluation prompts, per attribute. */
  attributes: AttributeProportions[];
  quality?: QualityAudit;
  /** Cost of this evaluation, and the share of the run's wall time spent evaluating so far. */
  elapsedMs: number;
  evaluationShare: number;
}

export interface MethodCheckpointEvent {
  type: "checkpoint";
  method: MethodName;
  step: number;
  file: string;
}

export interface MethodDoneEvent {
  type: "done";
  method: MethodName;
  steps: number;
  elapsedMs: number;
  aborted: boolean;
}

export type MethodEvent =
  MethodStepEvent | MethodEvaluationEvent | MethodCheckpointEvent | MethodDoneEvent;
