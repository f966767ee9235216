/**
 * Shape features of an image's foreground: the plane is split by Otsu's threshold (on a fixed
 * 256-bin histogram of [0, 1]) into foreground (brighter) and background, and the foreground mask
 * is described by its area, boundary and second moments. For a chest radiograph the mask is the
 * body and mediastinum against the dark surround; for dermoscopy, the skin around a dark lesion.
 *
 * Coordinates are in units of the image (x = (column + ½) / width, y = (row + ½) / height), so
 * the features do not depend on the image size. An image with a single intensity has no
 * threshold: its mask is empty (area 0, perimeter 0, compactness 0, centroid (½, ½), moments 0).
 */
import type { ImagePlane } from "./imagePlane";

const OTSU_BINS = 256;
// Captured once: under jest's vm sandbox a global lookup (Math) in a per-pixel loop costs ~40×.
const floor = Math.floor;

export const SHAPE_FEATURES = [
  /** Foreground pixels / all pixels. */
  "areaFraction",
  /** Foreground pixel edges facing background or the image border, / 2(width + height). */
  "perimeter",
  /** 4π·area / perimeter² in pixel units (≤ π/4 on a pixel grid; larger = more compact). */
  "compactness",
  "centroidX",
  "centroidY",
  /** Central second moments of the mask: var(x), var(y), cov(x, y). */
  "momentXX",
  "momentYY",
  "momentXY",
  /** √(1 − λ_min/λ_max) of the moment matrix: 0 for a square or disc, → 1 for a line. */
  "eccentricity",
] as const;

/**
 * Otsu's threshold as a bin index k of a 256-bin histogram of [0, 1]: foreground = bins > k.
 * Returns −1 when no split separates anything (a single intensity).
 */
export function otsuThresholdBin(plane: ImagePlane): number {
  const histogram = new Float64Array(OTSU_BINS);
  const n = plane.data.length;
  for (let p = 0; p < n; p++) histogram[binOf(plane.data[p])] += 1;
  let total = 0;
  for (let b = 0; b < OTSU_BINS; b++) total += b * histogram[b];
  let best = -1;
  let bestVariance = 0;
  let weightBelow = 0;
  let sumBelow = 0;
  for (let k = 0; k < OTSU_BINS - 1; k++) {
    weightBelow += histogram[k];
    sumBelow += k * histogram[k];
    const weightAbove = n - weightBelow;
    if (weightBelow === 0 || weightAbove === 0) continue;
    const meanBelow = sumBelow / weightBelow;
    const meanAbove = (total - sumBelow) / weightAbove;
    const between = weightBelow * weightAbove * (meanBelow - meanAbove) ** 2;
    if (between > bestVariance) {
      bestVariance = between;
      best = k;
    }
  }
  return best;
}

function binOf(v: number): number {
  const b = floor(v * OTSU_BINS);
  return b >= OTSU_BINS ? OTSU_BINS - 1 : b < 0 ? 0 : b;
}

/** The Otsu foreground mask (1 = foreground). */
export function foregroundMask(plane: ImagePlane): Uint8Array {
  const k = otsuThresholdBin(plane);
  const mask = new Uint8Array(plane.data.length);
  if (k < 0) return mask;
  for (let p = 0; p < mask.length; p++) mask[p] = binOf(plane.data[p]) > k ? 1 : 0;
  return mask;
}

/** Shape features (SHAPE_FEATURES order) of a binary mask of width × height. */
export function maskShapeFeatures(mask: Uint8Array, width: number, height: number): number[] {
  if (mask.length !== width * height) {
    throw new Error(`mask has ${mask.length} pixels, expected ${width}×${height}`);
  }
  let area = 0;
  let edges = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (mask[r * width + c] === 0) continue;
      area += 1;
      sx += (c + 0.5) / width;
      sy += (r + 0.5) / height;
      if (c === 0 || mask[r * width + c - 1] === 0) edges += 1;
      if (c === width - 1 || mask[r * width + c + 1] === 0) edges += 1;
      if (r === 0 || mask[(r - 1) * width + c] === 0) edges += 1;
      if (r === height - 1 || mask[(r + 1) * width + c] === 0) edges += 1;
    }
  }
  if (area === 0) return [0, 0, 0, 0.5, 0.5, 0, 0, 0, 0];
  const cx = sx / area;
  const cy = sy / area;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      if (mask[r * width + c] === 0) continue;
      const dx = (c + 0.5) / width - cx;
      const dy = (r + 0.5) / height - cy;
      xx += dx * dx;
      yy += dy * dy;
      xy += dx * dy;
    }
  }
  xx /= area;
  yy /= area;
  xy /= area;
  // Eigenvalues of [[xx, xy], [xy, yy]].
  const half = (xx + yy) / 2;
  const spread = Math.sqrt(((xx - yy) / 2) ** 2 + xy * xy);
  const large = half + spread;
  const small = Math.max(0, half - spread);
  return [
    area / (width * height),
    edges / (2 * (width + height)),
    (4 * Math.PI * area) / (edges * edges),
    cx,
    cy,
    xx,
    yy,
    xy,
    large > 0 ? Math.sqrt(Math.max(0, 1 - small / large)) : 0,
  ];
}

export function shapeFeatures(plane: ImagePlane): number[] {
  return maskShapeFeatures(foregroundMask(plane), plane.width, plane.height);
}
