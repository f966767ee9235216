/**
 * A bad option of a mitigation method, refused before any work: the error names the option, the
 * value given and what is expected ("batchSize must be an integer ≥ 2, got -1"), and carries
 * them as fields so a CLI or a widget can point at the field.
 */
export class MethodOptionError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${option} must be ${expected}, got ${describeValue(value)}`);
    this.name = "MethodOptionError";
  }
}

/** The value as a reader would type it: strings quoted, NaN and ±Infinity spelt out. */
function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `[${value.map(describeValue).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
  }
  return String(value);
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new MethodOptionError(option, value, `an integer ≥ ${min}`);
  }
  return value;
}

/** Throws unless `value` is a finite number in the range (`above`/`below`: open ends). */
export function checkNumber(
  option: string,
  value: unknown,
  range: { min?: number; max?: number; above?: number; below?: number } = {},
): number {
  const { min, max, above, below } = range;
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (above === undefined || value > above) &&
    (below === undefined || value < below);
  if (!ok) throw new MethodOptionError(option, value, describeRange(range));
  return value;
}

function describeRange(range: { min?: number; max?: number; above?: number; below?: number }) {
  const { min, max, above, below } = range;
  const low = min !== undefined ? `[${min}` : above !== undefined ? `(${above}` : undefined;
  const high = max !== undefined ? `${max}]` : below !== undefined ? `${below})` : undefined;
  if (low && high) return `in ${low}, ${high}`;
  if (min !== undefined) return `≥ ${min}`;
  if (above !== undefined) return `> ${above}`;
  if (max !== undefined) return `≤ ${max}`;
  if (below !== undefined) return `< ${below}`;
  return "a finite number";
}

/** Throws unless `value` is one of `allowed`. */
export function checkChoice<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    const quoted = allowed.map((a) => JSON.stringify(a));
    const listed =
      quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}` : quoted[0];
    throw new MethodOptionError(option, value, listed);
  }
  return value as T;
}
