/**
 * JSON without loss: NaN and ±Infinity (a group FID that could not be computed, say) become the
 * strings "NaN", "Infinity", "-Infinity" on the way out; the report's validator turns them back
 * into numbers wherever the schema expects a number.
 */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const NON_FINITE: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  "-Infinity": -Infinity,
};

/** A deep, JSON-safe copy: non-finite numbers as strings, undefined fields left out. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "string":
    case "boolean":
      return value;
    case "object": {
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        return Array.from(value as ArrayLike<unknown>, (item) => toJsonValue(item ?? null));
      }
      const out: { [key: string]: JsonValue } = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        if (item !== undefined && typeof item !== "function") out[key] = toJsonValue(item);
      }
      return out;
    }
    default:
      throw new Error(`cannot write a ${typeof value} into an audit report`);
  }
}

/** The number a JSON number field holds: a number, or one of the non-finite strings. */
export function numberFromJson(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value];
  return undefined;
}
