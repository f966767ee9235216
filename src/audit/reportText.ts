/**
 * Text helpers shared by the report's renderers: escaping untrusted strings (prompts, group and
 * file names come from users and datasets) and formatting numbers with their intervals.
 */
import type { Interval } from "../fairness/interval";

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Safe as HTML or SVG text and inside double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Safe inside a Markdown table cell: Markdown renders inline HTML, so markup is escaped as in
 * HTML; pipes would end the cell and newlines the row; backticks, asterisks, underscores and
 * brackets would start formatting or links.
 */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text)
    .replace(/\r?\n|\r/g, " ")
    .replace(/([\\`*_[\]|])/g, "\\$1");
}

/** 0.8523 → "85.2 %"; NaN → "n/a". */
export function percent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(digits)} %` : "n/a";
}

/** A number with a fixed number of decimals; non-finite values as "n/a" or "∞". */
export function fixed(value: number, digits = 3): string {
  if (Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  return value.toFixed(digits);
}

/** "85.2 % [76.0, 92.1]" for a proportion's interval. */
export function percentInterval(interval: Interval, digits = 1): string {
  const scale = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(digits) : "n/a");
  return `${percent(interval.estimate, digits)} [${scale(interval.lower)}, ${scale(interval.upper)}]`;
}

/** "0.712 [0.550, 0.880]" for a metric's interval. */
export function numberInterval(interval: Interval, digits = 3): string {
  return `${fixed(interval.estimate, digits)} [${fixed(interval.lower, digits)}, ${fixed(interval.upper, digits)}]`;
}

/** "95 % percentile-bootstrap, 2000 resamples" — how an interval was made. */
export function intervalMethod(interval: Interval): string {
  const level = `${Math.round(interval.level * 100)} %`;
  return interval.resamples === undefined
    ? `${level} ${interval.method}`
    : `${level} ${interval.method}, ${interval.resamples} resamples`;
}

/** Milliseconds as "12.3 s" or "4 min 05 s". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}
