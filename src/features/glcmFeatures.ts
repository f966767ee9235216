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
import { quantisePlane, type ImagePlane } from "./imagePlane";

// Captured once: under jest's vm sandbox a global lookup (Math) in a hot loop costs ~40×.
const { abs, max, min } = Math;

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
  return cooccurrenceOfLevels(
    quantisePlane(plane, levels),
    plane.width,
    plane.height,
    dRow,
    dCol,
    levels,
  );
}

/** The same from grey levels already computed (one quantisation serves every offset). */
function cooccurrenceOfLevels(
  quantised: Int32Array,
  width: number,
  height: number,
  dRow: number,
  dCol: number,
  levels: number,
): Float64Array {
  if (abs(dRow) >= height || abs(dCol) >= width) {
    throw new Error(
      `GLCM offset (${dRow}, ${dCol}) does not fit a ${width}×${height} image; it needs at least ${abs(dCol) + 1}×${abs(dRow) + 1}`,
    );
  }
  const matrix = new Float64Array(levels * levels);
  let pairs = 0;
  const rowEnd = min(height, height - dRow);
  const colEnd = min(width, width - dCol);
  for (let r = max(0, -dRow); r < rowEnd; r++) {
    for (let c = max(0, -dCol); c < colEnd; c++) {
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
      dissimilarity += p * abs(diff);
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
  const quantised = quantisePlane(plane, GLCM_LEVELS);
  for (const distance of GLCM_DISTANCES) {
    const sums = GLCM_PROPERTIES.map(() => 0);
    for (const angle of GLCM_ANGLES) {
      const props = glcmProperties(
        cooccurrenceOfLevels(
          quantised,
          plane.width,
          plane.height,
          angle.dRow * distance,
          angle.dCol * distance,
          GLCM_LEVELS,
        ),
      );
      GLCM_PROPERTIES.forEach((name, k) => (sums[k] += props[name]));
    }
    for (const s of sums) out.push(s / GLCM_ANGLES.length);
  }
  return out;
}
