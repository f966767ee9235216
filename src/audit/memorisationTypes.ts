/**
 * The shapes of the memorisation audit's result (near-copies of training images, per group).
 * Plain JSON-serialisable values only — numbers, strings, booleans, arrays — so the result can
 * sit in an audit report; non-finite numbers (an image with no same-group reference has ratio
 * NaN) go through the report's JSON encoding (`toJsonValue`).
 */
import type { Interval } from "../fairness/interval";
import type { FeatureExtractorInfo } from "./qualityTypes";

/** The two spaces images are compared in. */
export type MemorisationSpace = "features" | "pixels";

/**
 * One space's nearest neighbours of every generated image (arrays indexed by generated image).
 * Distances are Euclidean in feature space and RMS differences (per pixel value, channels
 * included, images in [0, 1]) in pixel space.
 */
export interface SpaceNeighbours {
  /** Index into the training set of the nearest same-group training image; −1 when unscored. */
  nearestTraining: number[];
  /** Distance to that training image (Infinity when unscored). */
  trainingDistance: number[];
  /** Distance to the nearest same-group held-out real image (Infinity when unscored). */
  heldOutDistance: number[];
  /** trainingDistance / heldOutDistance; NaN when unscored (no same-group reference). */
  ratio: number[];
}

/** How the near-copy thresholds were set, and what they are. */
export interface NearCopyCalibration {
  /** Target false-positive rate: the share of non-copies flagged in either space. */
  level: number;
  /** A sentence saying how the null was made and how the two spaces share the level. */
  method: string;
  /** Held-out real images scored as calibration queries (the null's size). */
  queries: number;
  /** How many of them the thresholds flag (≤ level × queries). */
  flagged: number;
  /** Share of the null strictly below each space's threshold (the same in both spaces). */
  quantile: number;
  /** A ratio strictly below its space's threshold makes an image a near-copy. */
  thresholds: Record<MemorisationSpace, number>;
}

/** Near-copies among the generated images of one group, beside the same rate on the null. */
export interface MemorisationGroup {
  group: string;
  /** Scored generated images of the group. */
  n: number;
  nearCopies: number;
  /** nearCopies / n with its Wilson interval (estimate NaN when n = 0). */
  share: Interval;
  /**
   * The group's held-out real images flagged by the same thresholds (Wilson interval): the share
   * this group shows when nothing is copied. Read `share` against it.
   */
  nullShare: Interval;
  /** Generated images of the group without a same-group training or held-out reference. */
  unscored: number;
}

export interface MemorisationByAttribute {
  /** An attribute, or an intersection such as "sex×race". */
  attribute: string;
  groups: MemorisationGroup[];
}

/** One generated image beside its nearest training image, for the report's picture. */
export interface MemorisationPair {
  generatedIndex: number;
  trainingIndex: number;
  /** The space in which the image is most copy-like (lowest ratio / threshold). */
  space: MemorisationSpace;
  /** The generated image's known groups (attribute → group). */
  groups: Record<string, string>;
  nearCopy: boolean;
  featureRatio: number;
  pixelRatio: number;
  /** Distances to `trainingIndex` (in that image's space it is the nearest). */
  featureDistance: number;
  pixelDistance: number;
  /** PNGs, base64, magnified `scale` times (nearest neighbour), grayscale or RGB as the images. */
  generatedPng: string;
  trainingPng: string;
  scale: number;
  width: number;
  height: number;
}

export interface MemorisationAudit {
  /** Where the training images came from, in words (set by the quality audit's caller). */
  trainingDescription?: string;
  /** The feature space's extractor (every figure in it names its extractor). */
  extractor: FeatureExtractorInfo;
  counts: { generated: number; training: number; heldOut: number };
  calibration: NearCopyCalibration;
  /** All scored generated images. */
  overall: { n: number; nearCopies: number; share: Interval; unscored: number };
  byAttribute: MemorisationByAttribute[];
  /** Per generated image, in the order given. */
  images: { features: SpaceNeighbours; pixels: SpaceNeighbours; nearCopy: boolean[] };
  /** The most copy-like generated images, most copy-like first. */
  pairs: MemorisationPair[];
  notes: string[];
  elapsedMs: number;
}
