/**
 * First-order (histogram) radiomic features of one plane, after PyRadiomics' first-order class
 * with the differences stated per feature. Every one is in units of the [0, 1] intensity scale
 * (or bits), independent of the image size, so images of any size can be compared.
 */
import { greyLevel, type ImagePlane } from "./imagePlane";

/** Bins of the fixed [0, 1] histogram behind entropy and uniformity (same as the GLCM's levels). */
export const HISTOGRAM_BINS = 16;

// Captured once: under jest's vm sandbox a global lookup (Math) in a hot loop costs ~40×.
const { floor, log2, min } = Math;

export const FIRST_ORDER_FEATURES = [
  /** Mean intensity. */
  "mean",
  /** Standard deviation (population, divides by N). */
  "std",
  /** Skewness m₃ / m₂^1.5; 0 for a constant image. */
  "skewness",
  /** Excess kurtosis m₄ / m₂² − 3 (PyRadiomics reports it without the − 3); 0 for a constant image. */
  "excessKurtosis",
  /** Shannon entropy in bits of the 16-bin histogram on [0, 1]; 0 for a constant image, ≤ 4. */
  "entropy",
  /** Σ p² of the same histogram (PyRadiomics "Uniformity"); 1 for a constant image. */
  "uniformity",
  /** Mean of x² (PyRadiomics "Energy" divided by the pixel count). */
  "energy",
  /** Percentiles by linear interpolation (numpy's default). */
  "p10",
  "p25",
  "p50",
  "p75",
  "p90",
  /** max − min. */
  "range",
] as const;

function percentile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = floor(position);
  const above = min(sorted.length - 1, below + 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

/** The features in FIRST_ORDER_FEATURES order. */
export function firstOrderFeatures(plane: ImagePlane): number[] {
  const x = plane.data;
  const n = x.length;
  if (n === 0) throw new Error("first-order features of an empty image");
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    sum += x[i];
    sumSquares += x[i] * x[i];
  }
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  const histogram = new Float64Array(HISTOGRAM_BINS);
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
    histogram[greyLevel(x[i], HISTOGRAM_BINS)] += 1;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  // Rounding leaves m₂ ≈ 1e-33 on a constant image; treat spread below float32 resolution as none.
  const flat = m2 <= 1e-14 * Math.max(1e-300, mean * mean);
  let entropy = 0;
  let uniformity = 0;
  for (const count of histogram) {
    if (count === 0) continue;
    const p = count / n;
    entropy -= p * log2(p);
    uniformity += p * p;
  }
  const sorted = Float64Array.from(x).sort();
  return [
    mean,
    Math.sqrt(m2),
    flat ? 0 : m3 / Math.pow(m2, 1.5),
    flat ? 0 : m4 / (m2 * m2) - 3,
    entropy,
    uniformity,
    sumSquares / n,
    percentile(sorted, 0.1),
    percentile(sorted, 0.25),
    percentile(sorted, 0.5),
    percentile(sorted, 0.75),
    percentile(sorted, 0.9),
    sorted[n - 1] - sorted[0],
  ];
}
