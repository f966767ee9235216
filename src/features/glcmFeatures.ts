/**
 * Grey-level co-occurrence (GLCM, Haralick) texture features of one plane, with scikit-image's
 * conventions (graycomatrix symmetric + normed, graycoprops) except that contrast and
 * dissimilarity are divided by their maxima so every feature lies in [0, 1] (or [−1, 1] for
 * correlation):
 *
 * - grey levels: 16 equal bins of the FIXED range [0, 1] (not each image's own min–max, so a
 *   darker image really has lower levels and images stay comparable);
 * - offsets: angles 0°, 45°, 90°, 135° at distances 1 and 2, as scikit-image turns an angle θ
 *   into a step (row, column) = (round(d·sin θ), round(d·cos θ)); each feature is averaged over
 *   the four angles, per distance.
 */
import { greyLevel, type ImagePlane } from "./imagePlane";

export const GLCM_LEVELS = 16;
export const GLCM_DISTANCES = [1, 2] as const;
/** Angle → unit (row, column) step; multiplied by the distance. */
export const GLCM_ANGLES: readonly { degrees: number; dRow: number; dCol: number }[] = [
  { degrees: 0, dRow: 0, dCol: 1 },
  { degrees: 45, dRow: 1, dCol: 1 },
  { degrees: 90, dRow: 1, dCol: 0 },
  { degrees: 135, dRow: 1, dCol: -1 },
];

export const GLCM_PROPERTIES = [
  /** Σ P(i,j)(i−j)² / (L−1)²: 0 for a flat image, 1 when every pair jumps black ↔ white. */
  "contrast",
  /** Σ P(i,j)|i−j| / (L−1). */
  "dissimilarity",
  /** Σ P(i,j) / (1 + (i−j)²) (scikit-image's homogeneity): 1 for a flat image. */
  "homogeneity",
  /** Angular second moment Σ P(i,j)²: 1 for a flat image. */
  "asm",
  /** Σ P(i,j)(i−μ)(j−μ) / σ² (symmetric matrix: one μ, σ); 1 when σ = 0, as scikit-image. */
  "correlation",
] as const;

export type GlcmProperties = Record<(typeof GLCM_PROPERTIES)[number], number>;

/**
 * Symmetric, normalised co-occurrence matrix (levels × levels, row-major) of grey-level pairs
 * (pixel, pixel + offset) and (pixel + offset, pixel).
 */
export function cooccurrenceMatrix(
  plane: ImagePlane,
  dRow: number,
  dCol: number,
  levels = GLCM_LEVELS,
): Float64Array {
  const { width, height, data } = plane;
  if (Math.abs(dRow) >= height || Math.abs(dCol) >= width) {
    throw new Error(
      `GLCM offset (${dRow}, ${dCol}) does not fit a ${width}×${height} image; it needs at least ${Math.abs(dCol) + 1}×${Math.abs(dRow) + 1}`,
    );
  }
  const quantised = new Int32Array(data.length);
  for (let p = 0; p < data.length; p++) quantised[p] = greyLevel(data[p], levels);
  const matrix = new Float64Array(levels * levels);
  let pairs = 0;
  for (let r = Math.max(0, -dRow); r < Math.min(height, height - dRow); r++) {
    for (let c = Math.max(0, -dCol); c < Math.min(width, width - dCol); c++) {
      const i = quantised[r * width + c];
      const j = quantised[(r + dRow) * width + c + dCol];
      matrix[i * levels + j] += 1;
      matrix[j * levels + i] += 1;
      pairs += 2;
    }
  }
  for (let k = 0; k < matrix.length; k++) matrix[k] /= pairs;
  return matrix;
}

/** The properties of one normalised co-occurrence matrix. */
export function glcmProperties(matrix: Float64Array, levels = GLCM_LEVELS): GlcmProperties {
  if (matrix.length !== levels * levels) {
    throw new Error(`GLCM has ${matrix.length} entries, expected ${levels}×${levels}`);
  }
  let contrast = 0;
  let dissimilarity = 0;
  let homogeneity = 0;
  let asm = 0;
  let mean = 0;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < levels; j++) {
      const p = matrix[i * levels + j];
      const diff = i - j;
      contrast += p * diff * diff;
      dissimilarity += p * Math.abs(diff);
      homogeneity += p / (1 + diff * diff);
      asm += p * p;
      mean += p * i;
    }
  }
  let variance = 0;
  let covariance = 0;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < levels; j++) {
      const p = matrix[i * levels + j];
      variance += p * (i - mean) * (i - mean);
      covariance += p * (i - mean) * (j - mean);
    }
  }
  const top = levels - 1;
  return {
    contrast: contrast / (top * top),
    dissimilarity: dissimilarity / top,
    homogeneity,
    asm,
    correlation: variance < 1e-15 ? 1 : covariance / variance,
  };
}

/** Feature names in output order: property × distance, e.g. "glcmContrastD1". */
export const GLCM_FEATURES: readonly string[] = GLCM_DISTANCES.flatMap((d) =>
  GLCM_PROPERTIES.map((p) => `glcm${p[0].toUpperCase()}${p.slice(1)}D${d}`),
);

/** Each property averaged over the four angles, for each distance (GLCM_FEATURES order). */
export function glcmFeatures(plane: ImagePlane): number[] {
  const out: number[] = [];
  for (const distance of GLCM_DISTANCES) {
    const sums = GLCM_PROPERTIES.map(() => 0);
    for (const angle of GLCM_ANGLES) {
      const props = glcmProperties(
        cooccurrenceMatrix(plane, angle.dRow * distance, angle.dCol * distance),
      );
      GLCM_PROPERTIES.forEach((name, k) => (sums[k] += props[name]));
    }
    for (const s of sums) out.push(s / GLCM_ANGLES.length);
  }
  return out;
}
