/**
 * Equity-scaled quality metrics (FairDiffusion, METHODS.md "Quality metrics"):
 *
 * - ES-AUC = AUC / (1 + Σ_g |AUC_g − AUC|) — FairDiffusion's definition: lower when groups are
 *   served unequally.
 * - ES-FID = FID + Σ_g |FID_g − FID| — fairdiff's own definition (FairDiffusion's exact formula
 *   was not in its public code); equivalently FID · (1 + Σ_g |FID_g − FID| / FID). Higher when
 *   per-group quality is unequal, equal to FID when every group matches the overall figure.
 *
 * Per-group FID compares generated images of group g with real images of group g.
 */
import { rocAuc } from "./auc";
import { frechetDistance, type FrechetDistance, type FrechetOptions } from "./frechetDistance";
import type { FeatureStatistics, GaussianMoments } from "./featureStatistics";
import { metricFrame, type MetricFrame } from "./metricFrame";
import { assertSameLength } from "./validation";

type Moments = FeatureStatistics | GaussianMoments;

function checkGroupValues(values: Record<string, number>, name: string): [string, number][] {
  const entries = Object.entries(values);
  if (entries.length === 0) throw new Error(`${name} has no groups`);
  for (const [group, v] of entries) {
    if (!Number.isFinite(v)) throw new Error(`${name} for group "${group}" is ${v}`);
  }
  return entries;
}

/** ES-FID = FID + Σ_g |FID_g − FID| (fairdiff's definition; see the file comment). */
export function equityScaledFid(overall: number, byGroup: Record<string, number>): number {
  if (!Number.isFinite(overall)) throw new Error(`overall FID is ${overall}`);
  let spread = 0;
  for (const [, v] of checkGroupValues(byGroup, "per-group FID")) spread += Math.abs(v - overall);
  return overall + spread;
}

/** ES-AUC = AUC / (1 + Σ_g |AUC_g − AUC|) (FairDiffusion). */
export function equityScaledAuc(overall: number, byGroup: Record<string, number>): number {
  if (!Number.isFinite(overall)) throw new Error(`overall AUC is ${overall}`);
  let spread = 0;
  for (const [, v] of checkGroupValues(byGroup, "per-group AUC")) spread += Math.abs(v - overall);
  return overall / (1 + spread);
}

/**
 * Fréchet distance per group: generated[g] against real[g] for every group in `real` (a group
 * with no generated statistics is an error naming it).
 */
export function perGroupFrechet(
  generated: Record<string, Moments>,
  real: Record<string, Moments>,
  options: FrechetOptions = {},
): Record<string, FrechetDistance> {
  const out: Record<string, FrechetDistance> = {};
  for (const group of Object.keys(real)) {
    const g = generated[group];
    if (!g) throw new Error(`no generated feature statistics for group "${group}"`);
    out[group] = frechetDistance(g, real[group], options);
  }
  return out;
}

export interface EquityScaledFid {
  /** FID overall and by group, with difference and ratio. */
  frame: MetricFrame;
  esFid: number;
  /** Which feature extractor produced the features: every FID figure names it. */
  extractor: string;
}

/** Overall FID, per-group FID and ES-FID from feature statistics. */
export function equityScaledFidFromFeatures(
  overall: { generated: Moments; real: Moments },
  byGroup: { generated: Record<string, Moments>; real: Record<string, Moments> },
  extractor: string,
  options: FrechetOptions = {},
): EquityScaledFid {
  const fid = frechetDistance(overall.generated, overall.real, options).distance;
  const groups = perGroupFrechet(byGroup.generated, byGroup.real, options);
  const values: Record<string, number> = {};
  for (const [g, r] of Object.entries(groups)) values[g] = r.distance;
  return {
    frame: metricFrame(`FID (${extractor})`, fid, values),
    esFid: equityScaledFid(fid, values),
    extractor,
  };
}

export interface EquityScaledAuc {
  frame: MetricFrame;
  esAuc: number;
}

/** AUC overall and per group (Mann–Whitney), and ES-AUC, for scores on labelled real images. */
export function equityScaledAucFromScores(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  groupOf: ArrayLike<string>,
): EquityScaledAuc {
  assertSameLength(scores, "scores", groupOf, "groupOf");
  const overall = rocAuc(scores, labels);
  const rowsByGroup = new Map<string, number[]>();
  for (let i = 0; i < groupOf.length; i++) {
    const rows = rowsByGroup.get(groupOf[i]) ?? [];
    rows.push(i);
    rowsByGroup.set(groupOf[i], rows);
  }
  const byGroup: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  for (const [group, rows] of rowsByGroup) {
    try {
      byGroup[group] = rocAuc(
        rows.map((i) => scores[i]),
        rows.map((i) => labels[i]),
      );
    } catch (error) {
      throw new Error(`AUC for group "${group}": ${(error as Error).message}`);
    }
    sizes[group] = rows.length;
  }
  return {
    frame: metricFrame("AUC", overall, byGroup, { overall: scores.length, byGroup: sizes }),
    esAuc: equityScaledAuc(overall, byGroup),
  };
}
