/**
 * Text in SVG charts drawn as strings, with no browser to measure it. Widths are estimated from
 * DejaVu Sans's advance widths — the widest common sans-serif, and what Chromium falls back to
 * on Linux — so text laid out with these estimates also fits in the narrower system fonts of
 * other machines. Long labels wrap at spaces, "×" and other separators, and are cut with "…"
 * only when the lines allowed are still too narrow (the caller keeps the whole name in a
 * tooltip).
 */
import { escapeHtml } from "./reportText";

/** DejaVu Sans advance widths of the printable ASCII characters (32 … 126), in 1/1000 em. */
const ASCII_WIDTHS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
  636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
  575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
  611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
  278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** Other characters the charts write (units, intervals, KID scales, quotes). */
const OTHER_WIDTHS: Record<string, number> = {
  "×": 838,
  "…": 1000,
  "–": 500,
  "—": 1000,
  "−": 838,
  "⁻": 528,
  "‖": 500,
  "·": 318,
  σ: 634,
  "≥": 838,
  "≤": 838,
  "±": 838,
  "°": 500,
  "“": 518,
  "”": 518,
  "‘": 318,
  "’": 318,
  "→": 838,
};

/** Bold is up to a quarter wider per glyph, about 12 % over running text; 16 % keeps a margin. */
const BOLD_FACTOR = 1.16;

/** Anything unknown (CJK, emoji) counts as a full em: too wide is safe, too narrow overlaps. */
function charWidth(c: string): number {
  const code = c.codePointAt(0)!;
  if (code >= 32 && code < 127) return ASCII_WIDTHS[code - 32];
  if (code >= 0x2070 && code <= 0x2079) return 401; // superscript digits (×10³)
  if (code === 0xb2 || code === 0xb3 || code === 0xb9) return 401;
  if (c in OTHER_WIDTHS) return OTHER_WIDTHS[c];
  // Accented Latin letters are as wide as their base letter.
  const base = c.normalize("NFD")[0];
  if (base !== c && base.codePointAt(0)! < 127) return charWidth(base);
  if (/\p{M}/u.test(c)) return 0; // a combining mark adds no width
  return 1000;
}

/** Estimated width in px of `text` at `fontSize` px. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const c of text) units += charWidth(c);
  return (units / 1000) * fontSize * (bold ? BOLD_FACTOR : 1);
}

export interface WrapOptions {
  fontSize: number;
  /** At most this many lines; the last is cut with "…" when the text needs more. */
  maxLines?: number;
  bold?: boolean;
}

export interface WrappedText {
  lines: string[];
  /** True when part of the text was left out (the caller should offer it in a tooltip). */
  cut: boolean;
  /** Estimated width of the widest line, px. */
  width: number;
}

/** Pieces that may end a line: a word with its space, or a name part up to "×", "/", "-", ",". */
function breakableParts(text: string): string[] {
  return text.match(/[^\s×/\-_,;|]*(?:[\s×/\-_,;|]+|$)/g)!.filter((part) => part !== "");
}

/** Cuts `text` to fit `maxWidth` with "…" at its end. */
function ellipsize(text: string, maxWidth: number, options: WrapOptions): string {
  const chars = [...text.trimEnd()];
  while (chars.length > 0) {
    const candidate = `${chars.join("").trimEnd()}…`;
    if (textWidth(candidate, options.fontSize, options.bold) <= maxWidth) return candidate;
    chars.pop();
  }
  return "…";
}

/** Splits a part wider than a line into pieces that fit (a long word with no separator). */
function hardBreak(part: string, maxWidth: number, options: WrapOptions): string[] {
  const pieces: string[] = [];
  let current = "";
  for (const c of part) {
    if (current && textWidth(current + c, options.fontSize, options.bold) > maxWidth) {
      pieces.push(current);
      current = "";
    }
    current += c;
  }
  if (current) pieces.push(current);
  return pieces;
}

/**
 * `text` in lines no wider than `maxWidth` (estimated): one line when it fits; an intersection
 * one group a line when that fits ("Female×" / "Black or African American"); else greedy
 * breaking after spaces and name separators. Beyond `maxLines` the last line ends in "…".
 */
export function wrapText(text: string, maxWidth: number, options: WrapOptions): WrappedText {
  const maxLines = options.maxLines ?? Infinity;
  const fits = (line: string) =>
    textWidth(line.trimEnd(), options.fontSize, options.bold) <= maxWidth;
  const measured = (lines: string[], cut: boolean): WrappedText => ({
    lines,
    cut,
    width: Math.max(0, ...lines.map((l) => textWidth(l, options.fontSize, options.bold))),
  });
  const whole = text.replace(/\s+/g, " ").trim();
  if (fits(whole)) return measured([whole], false);
  const groups = whole.split(/(?<=×)/);
  if (groups.length > 1 && groups.length <= maxLines && groups.every(fits)) {
    return measured(groups, false);
  }
  const lines: string[] = [];
  let current = "";
  for (const part of breakableParts(whole)) {
    if (fits(current + part)) {
      current += part;
      continue;
    }
    if (current) lines.push(current.trimEnd());
    const pieces = fits(part) ? [part] : hardBreak(part, maxWidth, options);
    lines.push(...pieces.slice(0, -1));
    current = pieces[pieces.length - 1];
  }
  if (current.trim() || lines.length === 0) lines.push(current.trimEnd());
  if (lines.length <= maxLines) return measured(lines, false);
  const kept = lines.slice(0, maxLines - 1);
  kept.push(ellipsize(lines.slice(maxLines - 1).join(" "), maxWidth, options));
  return measured(kept, true);
}

function r(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/**
 * A <text> of one or more lines (a <tspan> per line, each at `x`), the first baseline at `y`;
 * `attributes` are written as given (the caller escapes what it puts there), the lines escaped.
 */
export function svgTextLines(
  lines: readonly string[],
  x: number,
  y: number,
  lineHeight: number,
  attributes: string,
): string {
  if (lines.length === 1) {
    return `<text x="${r(x)}" y="${r(y)}" ${attributes}>${escapeHtml(lines[0])}</text>`;
  }
  const spans = lines.map(
    (line, i) => `<tspan x="${r(x)}" y="${r(y + i * lineHeight)}">${escapeHtml(line)}</tspan>`,
  );
  return `<text x="${r(x)}" y="${r(y)}" ${attributes}>${spans.join("")}</text>`;
}
