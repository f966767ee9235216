/**
 * The upper confidence bound acquisition and its maximisation over the unit box [0, 1]^K, as
 * FairDiffusion picks the next σ. Convention (botorch's UpperConfidenceBound, which the public
 * FairDiffusion code calls with beta = 0.1): UCB(x) = μ(x) + √β·σ(x), σ the posterior standard
 * deviation of the latent function. Maximisation: seeded uniform raw samples, the best few as
 * starting points, then projected gradient ascent with backtracking from each (botorch's
 * optimize_acqf does the same with L-BFGS-B; the public code used 20 raw samples, 5 restarts).
 */
import { createRng } from "../util/random";
import type { GaussianProcess } from "./gaussianProcess";

export interface ObjectiveWithGradient {
  value: number;
  gradient: ArrayLike<number>;
}

export interface BoxMaximizationOptions {
  dimension: number;
  seed: number;
  /** Uniform random points scored before the local searches (default 64). */
  rawSamples?: number;
  /** Best raw samples refined by local search (default 5). */
  restarts?: number;
  /** Gradient steps per local search (default 100). */
  iterations?: number;
}

export interface BoxMaximum {
  x: number[];
  value: number;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Projected gradient ascent with a backtracking step, inside [0, 1]^K. */
function localAscent(
  objective: (x: Float64Array) => ObjectiveWithGradient,
  start: Float64Array,
  iterations: number,
): BoxMaximum {
  let x = Float64Array.from(start);
  let current = objective(x);
  let step = 0.1;
  for (let it = 0; it < iterations && step > 1e-9; it++) {
    let norm = 0;
    for (let j = 0; j < x.length; j++) norm += current.gradient[j] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) break;
    let improved = false;
    while (step > 1e-9) {
      const candidate = x.map((v, j) => clamp01(v + (step * current.gradient[j]) / norm));
      const next = objective(candidate);
      if (next.value > current.value) {
        x = candidate;
        current = next;
        step *= 1.5;
        improved = true;
        break;
      }
      step *= 0.5;
    }
    if (!improved) break;
  }
  return { x: Array.from(x), value: current.value };
}

/** Maximises a differentiable objective over [0, 1]^K from seeded random starts. */
export function maximizeInUnitBox(
  objective: (x: Float64Array) => ObjectiveWithGradient,
  options: BoxMaximizationOptions,
): BoxMaximum {
  const { dimension, seed } = options;
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new Error(`dimension must be a positive integer, got ${dimension}`);
  }
  const rawSamples = options.rawSamples ?? 64;
  const restarts = Math.min(options.restarts ?? 5, rawSamples);
  if (!(rawSamples >= 1 && restarts >= 1)) {
    throw new Error(`need ≥ 1 raw sample and restart, got ${rawSamples} and ${restarts}`);
  }
  const rng = createRng(seed).fork("unit-box-raw-samples");
  const raw = Array.from({ length: rawSamples }, () => {
    const x = Float64Array.from({ length: dimension }, () => rng.next());
    return { x, value: objective(x).value };
  });
  raw.sort((a, b) => b.value - a.value);
  let best: BoxMaximum = { x: Array.from(raw[0].x), value: raw[0].value };
  for (const start of raw.slice(0, restarts)) {
    const found = localAscent(objective, start.x, options.iterations ?? 100);
    if (found.value > best.value) best = found;
  }
  return best;
}

/** UCB(x) = μ(x) + √β·σ(x) and its gradient. */
export function upperConfidenceBound(
  gp: GaussianProcess,
  x: ArrayLike<number>,
  beta: number,
): ObjectiveWithGradient {
  if (!(beta >= 0)) throw new Error(`UCB beta must be ≥ 0, got ${beta}`);
  const p = gp.predictWithGradient(x);
  const std = Math.sqrt(p.variance);
  const weight = Math.sqrt(beta);
  const gradient = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    // ∂σ = ∂var / 2σ; at σ = 0 the bound is flat in the variance direction.
    const dStd = std > 1e-12 ? p.varianceGradient[j] / (2 * std) : 0;
    gradient[j] = p.meanGradient[j] + weight * dStd;
  }
  return { value: p.mean + weight * std, gradient };
}

export interface UcbMaximizationOptions extends Omit<BoxMaximizationOptions, "dimension"> {
  /** Exploration weight β (default 0.1, FairDiffusion's). */
  beta?: number;
}

/** The point of [0, 1]^K with the highest UCB under `gp`. */
export function maximizeUpperConfidenceBound(
  gp: GaussianProcess,
  options: UcbMaximizationOptions,
): BoxMaximum {
  const beta = options.beta ?? 0.1;
  return maximizeInUnitBox((x) => upperConfidenceBound(gp, x, beta), {
    ...options,
    dimension: gp.dimension,
  });
}
