/**
 * Boundary checks shared by the fairness metrics: bad input fails loudly, naming the value.
 */

/** Throws unless `value` is a finite number. */
export function assertFinite(value: number, name: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`${name} must be a finite number, got ${String(value)}`);
  }
}

/** Throws unless every entry is finite; names the first bad index. */
export function assertFiniteArray(values: ArrayLike<number>, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== "number" || !Number.isFinite(values[i])) {
      throw new Error(`${name}[${i}] must be a finite number, got ${String(values[i])}`);
    }
  }
}

export function assertSameLength(
  a: ArrayLike<unknown>,
  aName: string,
  b: ArrayLike<unknown>,
  bName: string,
): void {
  if (a.length !== b.length) {
    throw new Error(
      `${aName} has ${a.length} entries but ${bName} has ${b.length}; they must match`,
    );
  }
}

/** Entries must be finite and ≥ 0, and there must be at least one. */
export function assertNonNegativeArray(values: ArrayLike<number>, name: string): void {
  if (values.length === 0) throw new Error(`${name} is empty`);
  assertFiniteArray(values, name);
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) throw new Error(`${name}[${i}] must be ≥ 0, got ${values[i]}`);
  }
}

/** Absolute tolerance for "sums to 1": loose enough for user-typed decimals like 0.333. */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;

/** A probability vector: non-negative, finite, summing to 1 within 1e-6. */
export function assertProbabilityVector(values: ArrayLike<number>, name: string): void {
  assertNonNegativeArray(values, name);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) {
    throw new Error(
      `${name} must sum to 1 (±${PROBABILITY_SUM_TOLERANCE}), but [${Array.from(values).join(", ")}] sums to ${sum}`,
    );
  }
}

export function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${String(value)}`);
  }
}

/** A confidence level strictly between 0 and 1, e.g. 0.95. */
export function assertLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new Error(`level must be in (0, 1), got ${String(level)}`);
}
