/**
 * The one parser of the command line's values: every count, seed, rate, scale and word choice goes
 * through here, so every bad value gets the same kind of message, naming the flag, the value and
 * what is expected, before any model loads. `Number()` alone accepts "", "0x10" and "Infinity" and turns
 * "abc" into NaN far from the flag that carried it.
 */

export interface NumberRange {
  /** Smallest allowed value (inclusive unless `above`). */
  min?: number;
  /** The value must be greater than this (exclusive lower bound). */
  above?: number;
  /** Largest allowed value (inclusive unless `below`). */
  max?: number;
  /** The value must be less than this (exclusive upper bound). */
  below?: number;
  /** Why the maximum is what it is, said after it, e.g. "images held in memory at once". */
  maxReason?: string;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** "1,000,000": limits read better with separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function describeRange(kind: "an integer" | "a number", range: NumberRange): string {
  const lower =
    range.above !== undefined
      ? `> ${range.above}`
      : range.min !== undefined
        ? `≥ ${formatCount(range.min)}`
        : undefined;
  const upper =
    range.below !== undefined
      ? `< ${range.below}`
      : range.max !== undefined
        ? `≤ ${formatCount(range.max)}`
        : undefined;
  const bounds = [lower, upper].filter((b) => b !== undefined).join(" and ");
  const reason = upper !== undefined && range.maxReason ? ` (${range.maxReason})` : "";
  return `${kind}${bounds ? ` ${bounds}` : ""}${reason}`;
}

function check(flag: string, text: string, kind: "an integer" | "a number", range: NumberRange) {
  const trimmed = text.trim();
  const value = Number(trimmed);
  const fine =
    DECIMAL.test(trimmed) &&
    Number.isFinite(value) &&
    (kind === "a number" || Number.isInteger(value)) &&
    (range.min === undefined || value >= range.min) &&
    (range.above === undefined || value > range.above) &&
    (range.max === undefined || value <= range.max) &&
    (range.below === undefined || value < range.below);
  if (!fine) throw new Error(`${flag} must be ${describeRange(kind, range)}, got "${text}"`);
  return value;
}

/** `flag` as written on the command line, e.g. "--steps". */
export function integerOption(flag: string, text: string, range: NumberRange = {}): number {
  return check(flag, text, "an integer", range);
}

export function numberOption(flag: string, text: string, range: NumberRange = {}): number {
  return check(flag, text, "a number", range);
}

/** Unset flags stay unset (the library's default applies). */
export function optionalInteger(
  flag: string,
  text: string | undefined,
  range: NumberRange = {},
): number | undefined {
  return text === undefined ? undefined : integerOption(flag, text, range);
}

export function optionalNumber(
  flag: string,
  text: string | undefined,
  range: NumberRange = {},
): number | undefined {
  return text === undefined ? undefined : numberOption(flag, text, range);
}

/** Commander's argument parser for a repeatable flag: every value given, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A flag that takes one of a few words: the word, typed as one of them, or an error naming them. */
export function choiceOption<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    const words = choices.map((c) => `"${c}"`);
    const expected =
      words.length <= 2
        ? words.join(" or ")
        : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
    throw new Error(`${flag} must be ${expected}, got "${text}"`);
  }
  return text as T;
}

export function optionalChoice<T extends string>(
  flag: string,
  text: string | undefined,
  choices: readonly T[],
): T | undefined {
  return text === undefined ? undefined : choiceOption(flag, text, choices);
}

/** Seeds are non-negative integers a float64 holds exactly. */
export const SEED_RANGE: NumberRange = { min: 0, max: Number.MAX_SAFE_INTEGER };

/**
 * Optimisation steps: a million is weeks of CPU time for the smallest model; a larger count is a
 * typo (1e9), and would only fill memory with per-step records before any step finished.
 */
export const STEP_RANGE: NumberRange = {
  min: 1,
  max: 1_000_000,
  maxReason: "a run longer than a million steps is refused",
};

/** Sampler steps (DDIM/DDPM/DPM-Solver++): the schedulers have 1000 training timesteps. */
export const SAMPLER_STEP_RANGE: NumberRange = {
  min: 1,
  max: 1000,
  maxReason: "the noise schedule has 1000 timesteps",
};

/** TCP ports a server may listen on (0 lets the system choose). */
export const PORT_RANGE: NumberRange = { min: 0, max: 65535 };
