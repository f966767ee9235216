/**
 * Small checks for reading a report's sections from untrusted JSON: each names the field path
 * that is wrong ("audit report: memorisation.calibration.level should be a number, got
 * string"), turns the "NaN"/"Infinity" strings back into numbers in place, and leaves fields it
 * is not asked about alone (a newer producer's extras survive a round trip).
 *
 * The report's validator (auditReportValidation.ts) and every section's (reportMemorisation.ts)
 * share these.
 */
import { numberFromJson } from "./reportJson";

export type JsonObject = Record<string, unknown>;

export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `"${value.length > 40 ? value.slice(0, 40) + "…" : value}"`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

export function fail(path: string, expected: string, got: unknown): never {
  throw new Error(`audit report: ${path} should be ${expected}, got ${describeJson(got)}`);
}

export function object(value: unknown, path: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(path, "an object", value);
  }
  return value as JsonObject;
}

export function present(o: JsonObject, key: string, path: string): unknown {
  if (!(key in o) || o[key] === undefined) {
    throw new Error(`audit report: missing field "${path}.${key}"`);
  }
  return o[key];
}

export function num(o: JsonObject, key: string, path: string): void {
  const value = numberFromJson(present(o, key, path));
  if (value === undefined) fail(`${path}.${key}`, "a number", o[key]);
  o[key] = value;
}

export function optNum(o: JsonObject, key: string, path: string): void {
  if (o[key] !== undefined) num(o, key, path);
}

export function str(o: JsonObject, key: string, path: string): void {
  if (typeof present(o, key, path) !== "string") fail(`${path}.${key}`, "a string", o[key]);
}

export function optStr(o: JsonObject, key: string, path: string): void {
  if (o[key] !== undefined) str(o, key, path);
}

export function bool(o: JsonObject, key: string, path: string): void {
  if (typeof present(o, key, path) !== "boolean") fail(`${path}.${key}`, "a boolean", o[key]);
}

/** A string that is one of `allowed`. */
export function oneOf(o: JsonObject, key: string, path: string, allowed: readonly string[]): void {
  const value = present(o, key, path);
  if (typeof value !== "string" || !allowed.includes(value)) {
    fail(`${path}.${key}`, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`, value);
  }
}

export function list(
  o: JsonObject,
  key: string,
  path: string,
  each?: (item: unknown, p: string) => void,
): unknown[] {
  const value = present(o, key, path);
  if (!Array.isArray(value)) fail(`${path}.${key}`, "an array", value);
  if (each) value.forEach((item, i) => each(item, `${path}.${key}[${i}]`));
  return value as unknown[];
}

export function numbers(o: JsonObject, key: string, path: string): number[] {
  const values = list(o, key, path);
  values.forEach((item, i) => {
    const value = numberFromJson(item);
    if (value === undefined) fail(`${path}.${key}[${i}]`, "a number", item);
    values[i] = value;
  });
  return values as number[];
}

export function strings(o: JsonObject, key: string, path: string): string[] {
  return list(o, key, path, (item, p) => {
    if (typeof item !== "string") fail(p, "a string", item);
  }) as string[];
}

export function booleans(o: JsonObject, key: string, path: string): boolean[] {
  return list(o, key, path, (item, p) => {
    if (typeof item !== "boolean") fail(p, "a boolean", item);
  }) as boolean[];
}

export function record(
  o: JsonObject,
  key: string,
  path: string,
  each: (item: unknown, p: string) => void,
): void {
  const value = object(present(o, key, path), `${path}.${key}`);
  for (const [k, item] of Object.entries(value)) each(item, `${path}.${key}.${k}`);
}

/** An `Interval` (src/fairness/interval.ts). */
export function interval(value: unknown, path: string): void {
  const o = object(value, path);
  for (const key of ["estimate", "lower", "upper", "level", "n"]) num(o, key, path);
  str(o, "method", path);
  optNum(o, "resamples", path);
  optNum(o, "seed", path);
}
