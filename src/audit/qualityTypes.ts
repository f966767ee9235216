/**
 * The shapes of the quality audit's results (FID and KID overall and per group, ES-FID, clinical
 * semantic correlation). Kept apart from the code that computes them so the report, the methods'
 * evaluation events and the widgets can share them.
 */
import type { Interval } from "../fairness/interval";
import type { MemorisationAudit } from "./memorisationTypes";

/** Which feature extractor produced a figure: every FID names its extractor. */
export interface FeatureExtractorInfo {
  /** Stable, human-readable id, e.g. "fairdiff-cxr-encoder" or "radiomic-v1". */
  name: string;
  kind: "project-encoder" | "radiomic" | "graph-model";
  dimension: number;
  description: string;
}

/** One Fréchet distance with the sample sizes behind it. */
export interface FidFigure {
  value: number;
  nGenerated: number;
  nReal: number;
  /** Optional bootstrap interval (images resampled with replacement). */
  interval?: Interval;
}

/**
 * One Kernel Inception Distance (unbiased MMD², cubic polynomial kernel) with the sample sizes
 * behind it. Unbiased at any n, so it may be negative; small (often 1e-3 … 1).
 */
export interface KidFigure {
  value: number;
  nGenerated: number;
  nReal: number;
  /** Half-sampling interval (absent with fewer than 4 images on a side). */
  interval?: Interval;
  /** Half-samples behind the interval; 0 when there is none. */
  subsets: number;
}

/**
 * FID (and KID) of each group of one attribute or intersection (generated group g vs real group
 * g) and its ES-FID. An intersection is named like "sex×race", its groups like "Female×Asian".
 */
export interface GroupQuality {
  attribute: string;
  groups: string[];
  /** Same order as `groups`; a group with too few images has value NaN and a note. */
  perGroup: FidFigure[];
  /** KID beside each group's FID (same order); absent when KID was turned off. */
  perGroupKid?: KidFigure[];
  /** ES-FID = FID + Σ_g |FID_g − FID| (fairdiff's stated definition, METHODS.md). */
  esFid: number;
  notes: string[];
}

/** A finding classifier trained only on generated images and tested on real ones. */
export interface ClinicalCorrelation {
  finding: string;
  nTrainGenerated: number;
  nTestReal: number;
  auc: number;
  aucInterval?: Interval;
  /** attribute → per-group AUC (same order as that attribute's groups) and ES-AUC. */
  byAttribute: { attribute: string; groups: string[]; auc: number[]; n: number[]; esAuc: number }[];
  /** Why a figure is missing (NaN): a class absent from a group, no classifier trained… */
  notes?: string[];
}

export interface QualityAudit {
  extractor: FeatureExtractorInfo;
  overall: FidFigure;
  /** KID of all generated vs all real images; absent when KID was turned off. */
  overallKid?: KidFigure;
  /** Single attributes first, then the intersections asked for. */
  byAttribute: GroupQuality[];
  clinical?: ClinicalCorrelation[];
  /** Near-copies of training images among the generated ones, per group (when asked for). */
  memorisation?: MemorisationAudit;
  /** Wall time of the quality audit in ms (generation excluded when images were given). */
  elapsedMs: number;
}
