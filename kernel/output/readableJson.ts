/**
 * The text/plain side of `display.json(value)`: JSON a person can read where no JSON viewer is
 * installed (FairDiff Lab has none, nbconvert's text export, a terminal) — indented, numbers to
 * four significant digits (0.8523412345678901 → 0.8523, 1234.5678 → 1235, 123456.7 → 123457),
 * short arrays and objects of plain values on one line. The application/json side keeps every
 * digit.
 */

const SIGNIFICANT = 4;

/** Integers whole; others to four significant digits, never rounding away integer digits. */
function number(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 10 ** SIGNIFICANT) return String(Math.round(value));
  return String(Number(value.toPrecision(SIGNIFICANT)));
}

function isPlain(value: unknown): boolean {
  return value === null || typeof value !== "object";
}

function scalar(value: unknown): string {
  return typeof value === "number" ? number(value) : JSON.stringify(value);
}

function format(value: unknown, indent: string, width: number): string {
  if (isPlain(value)) return scalar(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isPlain)) {
      const line = `[${value.map(scalar).join(", ")}]`;
      if (indent.length + line.length <= width) return line;
    }
    const items = value.map((item) => `${inner}${format(item, inner, width)}`);
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  if (entries.every(([, v]) => isPlain(v))) {
    const line = `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${scalar(v)}`).join(", ")} }`;
    if (indent.length + line.length <= width) return line;
  }
  const items = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner, width)}`);
  return `{\n${items.join(",\n")}\n${indent}}`;
}

/** `value` as the JSON that application/json carries, laid out for reading (`width` columns). */
export function readableJson(value: unknown, width = 80): string {
  // What the JSON mime type carries: toJSON applied, undefined and functions left out.
  const json = JSON.stringify(value);
  return json === undefined ? "undefined" : format(JSON.parse(json), "", width);
}
