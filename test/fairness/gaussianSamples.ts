/**
 * Seeded synthetic feature sets for the Fréchet tests: x = s ⊙ z + W f + μ with per-dimension
 * scales s spread over three decades and a few shared latent factors f, so covariances are dense
 * and ill-conditioned like real embeddings, yet cheap to draw at d = 2048.
 */
import { createRng } from "../../src/util/random";

export interface SampleSpec {
  dimension: number;
  count: number;
  seed: number;
  /** Seed of the distribution itself (scales, mixing, mean); defaults to `seed`. */
  population?: number;
  /** Added to every mean entry. */
  shift?: number;
  latentFactors?: number;
}

export function sampleFeatures(spec: SampleSpec): Float64Array {
  const { dimension: d, count: n, seed } = spec;
  const rng = createRng(seed);
  const structure = createRng((spec.population ?? seed) ^ 0x5bd1e995);
  const k = spec.latentFactors ?? 4;
  const scales = Float64Array.from({ length: d }, () => Math.pow(10, -2 + 3 * structure.next()));
  const mixing = Float64Array.from({ length: d * k }, () => structure.normal() * 0.5);
  const mean = Float64Array.from({ length: d }, () => structure.normal() + (spec.shift ?? 0));
  const out = new Float64Array(n * d);
  const f = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) f[j] = rng.normal();
    for (let c = 0; c < d; c++) {
      let v = mean[c] + scales[c] * rng.normal();
      for (let j = 0; j < k; j++) v += mixing[c * k + j] * f[j];
      out[r * d + c] = v;
    }
  }
  return out;
}
