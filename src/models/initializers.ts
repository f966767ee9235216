/**
 * Parameter initial values drawn from a seeded `Rng`, so the same seed gives the same weights.
 * Scales follow PyTorch's defaults (uniform ±1/√fan_in for linear and conv layers).
 */
import type { Rng } from "../util/random";

export function uniformValues(count: number, bound: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

export function normalValues(count: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std;
  return out;
}

/** PyTorch's nn.Linear / nn.Conv2d default (kaiming-uniform with a = √5): ±1/√fan_in. */
export function fanInUniform(count: number, fanIn: number, rng: Rng): Float32Array {
  return uniformValues(count, 1 / Math.sqrt(fanIn), rng);
}

export function constantValues(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
