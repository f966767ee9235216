/**
 * The shapes of the quality audit's results (FID overall and per group, ES-FID, clinical
 * semantic correlation). Kept apart from the code that computes them so the report, the methods'
 * evaluation events and the widgets can share them.
 */
import type { Interval } from "../fairness/interval";

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

/** FID of each group of one attribute (generated group g vs real group g) and its ES-FID. */
export interface GroupQuality {
  attribute: string;
  groups: string[];
  /** Same order as `groups`; a group with too few images has value NaN and a note. */
  perGroup: FidFigure[];
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
  byAttribute: GroupQuality[];
  clinical?: ClinicalCorrelation[];
  /** Wall time of the quality audit in ms (generation excluded when images were given). */
  elapsedMs: number;
}
