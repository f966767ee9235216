/**
 * Noise (β) schedules over the training timesteps, with the formulas diffusers uses, so a
 * schedule named here means the same numbers as in diffusers / Stable Diffusion.
 * Computed in float64: the coefficients are scalars, so the extra precision costs nothing.
 */

export type BetaScheduleName = "linear" | "scaled_linear" | "squaredcos_cap_v2";

export interface BetaScheduleOptions {
  schedule: BetaScheduleName;
  trainTimesteps: number;
  betaStart: number;
  betaEnd: number;
}

function linspace(start: number, end: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++)
    out[i] = count === 1 ? start : start + ((end - start) * i) / (count - 1);
  return out;
}

/** Nichol & Dhariwal's cosine schedule: ᾱ(t) = cos²((t + 0.008)/1.008 · π/2), β capped at 0.999. */
function cosineBetas(count: number, maxBeta = 0.999): Float64Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = Math.min(1 - alphaBar((i + 1) / count) / alphaBar(i / count), maxBeta);
  }
  return out;
}

export function betaSchedule(options: BetaScheduleOptions): Float64Array {
  const { schedule, trainTimesteps, betaStart, betaEnd } = options;
  if (!Number.isInteger(trainTimesteps) || trainTimesteps < 2) {
    throw new Error(`trainTimesteps must be an integer ≥ 2, got ${trainTimesteps}`);
  }
  switch (schedule) {
    case "linear":
      return linspace(betaStart, betaEnd, trainTimesteps);
    case "scaled_linear":
      // Stable Diffusion's schedule: linear in √β.
      return linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), trainTimesteps).map((b) => b * b);
    case "squaredcos_cap_v2":
      return cosineBetas(trainTimesteps);
    default:
      throw new Error(
        `unknown beta schedule "${String(schedule)}": expected linear, scaled_linear or squaredcos_cap_v2`,
      );
  }
}

/** ᾱ_t = ∏_{s≤t} (1 − β_s). */
export function cumulativeAlphas(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= 1 - betas[i];
    out[i] = product;
  }
  return out;
}
