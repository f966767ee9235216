/**
 * The audit report's charts, as SVG strings: one implementation for both views of a report —
 * the HTML report inlines them (reportHtml.ts), the JupyterLab renderer parses them into DOM
 * after an allow-list check (extension/src/auditReport). Horizontal bars, one row per group:
 * per prompt and attribute the observed share with its interval, the target and the
 * confusion-corrected estimate; per attribute the per-group FID (and KID, with intervals)
 * against the overall figure. Each chart has a legend, an axis title and round ticks.
 *
 * Text and neutral strokes are `currentColor`, so a chart reads on the HTML report's white card
 * and in JupyterLab's light and dark themes alike; the coloured marks have contrast on white and
 * on near-black. Widths of text are estimated (chartText.ts), generously: group names wrap onto
 * two lines or are cut with "…" (the row's tooltip keeps the whole name), the label column is as
 * wide as its longest line, and tick labels are thinned until they fit — no two labels overlap.
 * Every piece of text is escaped. Pure string code (no DOM, no Node), so the extension's build
 * compiles this file as it is.
 */
import { niceAxis, type NiceAxis } from "./chartAxis";
import { svgTextLines, textWidth, type WrappedText, wrapText } from "./chartText";
import type { KidScale } from "./kidScale";
import { escapeHtml, fixed, percent } from "./reportText";

/** A share with its interval as the charts read it (an `Interval` is one; so is the lab's). */
export interface ChartShare {
  estimate: number;
  lower?: number;
  upper?: number;
  level?: number;
}

/** One attribute's group shares for one prompt (an `AttributeRepresentation` is one). */
export interface ShareChartData {
  attribute: string;
  groups: readonly string[];
  n?: number;
  counts?: readonly number[];
  proportions: readonly ChartShare[];
  target?: readonly number[];
  corrected?: readonly ChartShare[];
}

/** One group's FID or KID (a `FidFigure` or `KidFigure` is one). */
export interface ChartFigure {
  value: number;
  nGenerated?: number;
  nReal?: number;
  interval?: { lower: number; upper: number; level?: number };
}

/** One attribute's per-group quality figures (a `GroupQuality` is one). */
export interface GroupFiguresData {
  attribute: string;
  groups: readonly string[];
  perGroup: readonly ChartFigure[];
  perGroupKid?: readonly ChartFigure[];
}

/** Colours with at least 3.9:1 contrast on white and on JupyterLab's dark background. */
export const CHART_COLORS = {
  bar: "#4c78a8",
  target: "#e03131",
  corrected: "#ae3ec9",
};

const FONT_SIZE = 12;
const LINE_HEIGHT = 14;
const PAD = 4;
const GAP = 8;
const PLOT_WIDTH = 300;
const MIN_LABEL_WIDTH = 48;
/** Names wider than this wrap (two lines at most, then "…"). */
const MAX_LABEL_WIDTH = 180;
const TOP = 6;
const LEGEND_ROW = 20;
const SYMBOL_WIDTH = 14;
const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const TEXT = `fill="currentColor"`;

function r(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** Where everything of a bar chart goes: columns from the text they hold, rows from the labels. */
interface Layout {
  labels: WrappedText[];
  labelRight: number;
  plotX: number;
  valueX: number;
  width: number;
  row: number;
  plotBottom: number;
}

function layout(
  groups: readonly string[],
  values: readonly string[],
  tickOverhang: number,
): Layout {
  const labels = groups.map((g) =>
    wrapText(g, MAX_LABEL_WIDTH, { fontSize: FONT_SIZE, maxLines: 2 }),
  );
  const labelWidth = Math.ceil(Math.max(MIN_LABEL_WIDTH, ...labels.map((l) => l.width)));
  const lines = Math.max(1, ...labels.map((l) => l.lines.length));
  // Room for two lines and a gap when any name wraps, so rows never share a label's space.
  const row = lines === 1 ? 28 : lines * LINE_HEIGHT + 12;
  const labelRight = PAD + labelWidth;
  const plotX = labelRight + GAP;
  const valueX = plotX + PLOT_WIDTH + GAP;
  const valueWidth = Math.max(0, ...values.map((v) => textWidth(v, FONT_SIZE)));
  const width = Math.ceil(Math.max(valueX + valueWidth, plotX + PLOT_WIDTH + tickOverhang) + PAD);
  const plotBottom = TOP + groups.length * row;
  return { labels, labelRight, plotX, valueX, width, row, plotBottom };
}

/** A group's name in the label column, centred on its row (one or two lines). */
function groupLabel(label: WrappedText, right: number, mid: number): string {
  const first = mid + 4 - ((label.lines.length - 1) * LINE_HEIGHT) / 2;
  return svgTextLines(
    label.lines,
    right,
    first,
    LINE_HEIGHT,
    `class="fd-label" text-anchor="end" ${TEXT}`,
  );
}

function svgOpen(width: number, height: number, aria: string): string {
  return `<svg class="fd-chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(aria)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">`;
}

/** Vertical grid lines at the ticks, faint in any theme. */
function grid(ticks: readonly number[], toX: (v: number) => number, bottom: number): string {
  return ticks
    .map((tick) => {
      const x = r(toX(tick));
      return `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="currentColor" stroke-opacity="0.15"/>`;
    })
    .join("");
}

/** The axis line, its ticks and their labels, and the axis title below them. */
function axis(
  l: Layout,
  ticks: readonly number[],
  toX: (v: number) => number,
  text: (v: number) => string,
  title: string,
): string {
  const y = l.plotBottom;
  const parts = [
    `<line x1="${l.plotX}" y1="${y}" x2="${l.plotX + PLOT_WIDTH}" y2="${y}" stroke="currentColor" stroke-opacity="0.6"/>`,
  ];
  for (const tick of ticks) {
    const x = r(toX(tick));
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}" stroke="currentColor" stroke-opacity="0.6"/>`,
      `<text class="fd-tick" x="${x}" y="${y + 17}" text-anchor="middle" ${TEXT}>${escapeHtml(text(tick))}</text>`,
    );
  }
  parts.push(
    `<text class="fd-axis-title" x="${r(l.plotX + PLOT_WIDTH / 2)}" y="${y + 35}" text-anchor="middle" font-weight="600" ${TEXT}>${escapeHtml(title)}</text>`,
  );
  return parts.join("");
}

/** Below the axis title. */
function legendTop(l: Layout): number {
  return l.plotBottom + 58;
}

/** Half the widest tick label: how far the outer ticks' labels reach past the plot. */
function tickOverhang(labels: readonly string[]): number {
  return Math.max(0, ...labels.map((t) => textWidth(t, FONT_SIZE))) / 2;
}

/** An interval as a line with end caps; `fd-ci` marks the data's (not the legend's). */
function whisker(
  lower: number,
  upper: number,
  y: number,
  toX: (v: number) => number,
  className = "fd-ci",
): string {
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) return "";
  const [x1, x2] = [r(toX(lower)), r(toX(upper))];
  const stroke = `stroke="currentColor" stroke-width="1.5"`;
  return (
    `<line class="${className}" x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" ${stroke}/>` +
    `<line x1="${x1}" y1="${y - 5}" x2="${x1}" y2="${y + 5}" ${stroke}/>` +
    `<line x1="${x2}" y1="${y - 5}" x2="${x2}" y2="${y + 5}" ${stroke}/>`
  );
}

const DASHED = (color: string) => `stroke="${color}" stroke-width="2" stroke-dasharray="4 2"`;

/** Legend symbols, drawn in a 14 px box whose text baseline is `y`. */
const SYMBOLS = {
  bar: (x: number, y: number) =>
    `<rect x="${x}" y="${y - 10}" width="${SYMBOL_WIDTH}" height="10" fill="${CHART_COLORS.bar}"/>`,
  interval: (x: number, y: number) =>
    whisker(x + 1, x + SYMBOL_WIDTH - 1, y - 4, (v) => v, "fd-key"),
  dashed: (x: number, y: number) =>
    `<line x1="${x + 7}" y1="${y - 12}" x2="${x + 7}" y2="${y + 3}" ${DASHED(CHART_COLORS.target)}/>`,
  ring: (x: number, y: number) =>
    `<circle cx="${x + 7}" cy="${y - 4}" r="4" fill="none" stroke="${CHART_COLORS.corrected}" stroke-width="2"/>`,
};

interface LegendItem {
  symbol: keyof typeof SYMBOLS;
  text: string;
}

/** Legend items in rows from the plot's left edge, a new row when the next would not fit. */
function legend(items: readonly LegendItem[], l: Layout): { svg: string; bottom: number } {
  const right = l.width - PAD;
  const widths = items.map((item) => SYMBOL_WIDTH + 5 + textWidth(item.text, FONT_SIZE));
  // Items too wide to start at the plot's edge start at the chart's.
  const left = Math.max(0, ...widths) > right - l.plotX ? PAD : l.plotX;
  let x = left;
  let y = legendTop(l);
  const parts: string[] = [];
  items.forEach((item, i) => {
    if (x > left && x + widths[i] > right) {
      x = left;
      y += LEGEND_ROW;
    }
    parts.push(
      SYMBOLS[item.symbol](x, y),
      `<text x="${r(x + SYMBOL_WIDTH + 5)}" y="${y}" ${TEXT}>${escapeHtml(item.text)}</text>`,
    );
    x += widths[i] + 16;
  });
  return { svg: `<g class="fd-legend">${parts.join("")}</g>`, bottom: y + 6 };
}

/** "95 % interval" from the first interval that names its level. */
function intervalName(levels: readonly (number | undefined)[]): string {
  const level = levels.find(finite);
  return level === undefined ? "interval" : `${Math.round(level * 100)} % interval`;
}

function shareText(p: ChartShare): string {
  if (!finite(p.lower) || !finite(p.upper)) return percent(p.estimate);
  return `${percent(p.estimate)} [${(100 * p.lower).toFixed(1)}, ${(100 * p.upper).toFixed(1)}]`;
}

/** Bar chart of one attribute's group shares for one prompt. */
export function proportionChart(a: ShareChartData, context = ""): string {
  const values = a.proportions.map((p) => percent(p.estimate));
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const tickText = (v: number) => `${Math.round(v * 100)} %`;
  const l = layout(a.groups, values, tickOverhang(ticks.map(tickText)));
  const toX = (v: number) => l.plotX + clamp(v, 0, 1) * PLOT_WIDTH;
  const hasTarget = a.groups.some((_, i) => finite(a.target?.[i]));
  const hasCorrected = a.corrected?.some((c) => finite(c.estimate)) ?? false;
  const items: LegendItem[] = [
    { symbol: "bar", text: "share" },
    { symbol: "interval", text: intervalName(a.proportions.map((p) => p.level)) },
    ...(hasTarget ? [{ symbol: "dashed" as const, text: "target" }] : []),
    ...(hasCorrected ? [{ symbol: "ring" as const, text: "corrected share" }] : []),
  ];
  const key = legend(items, l);
  const size = a.n !== undefined ? ` of ${a.n} images` : "";
  const parts = [
    svgOpen(l.width, key.bottom, `${a.attribute} shares${size}${context ? ` for ${context}` : ""}`),
    grid(ticks, toX, l.plotBottom),
  ];
  a.groups.forEach((group, i) => {
    const y = TOP + i * l.row;
    const mid = y + l.row / 2;
    const p = a.proportions[i] ?? { estimate: NaN };
    const target = a.target?.[i];
    const corrected = a.corrected?.[i];
    const counted = a.counts?.[i] !== undefined ? ` (${a.counts[i]} counted)` : "";
    const tooltip = `${group}: ${shareText(p)}${size}${counted}${finite(target) ? `; target ${percent(target)}` : ""}${corrected ? `; corrected ${shareText(corrected)}` : ""}`;
    parts.push(
      `<g class="fd-group"><title>${escapeHtml(tooltip)}</title>`,
      groupLabel(l.labels[i], l.labelRight, mid),
      finite(p.estimate)
        ? `<rect class="fd-bar" x="${l.plotX}" y="${mid - 7}" width="${r(clamp(p.estimate, 0, 1) * PLOT_WIDTH)}" height="14" fill="${CHART_COLORS.bar}"/>`
        : "",
      finite(p.lower) && finite(p.upper) ? whisker(p.lower, p.upper, mid, toX) : "",
      finite(target)
        ? `<line class="fd-target" x1="${r(toX(target))}" y1="${y + 3}" x2="${r(toX(target))}" y2="${y + l.row - 3}" ${DASHED(CHART_COLORS.target)}/>`
        : "",
      corrected && finite(corrected.estimate)
        ? `<circle class="fd-corrected" cx="${r(toX(corrected.estimate))}" cy="${mid}" r="4" fill="none" stroke="${CHART_COLORS.corrected}" stroke-width="2"/>`
        : "",
      `<text class="fd-value" x="${l.valueX}" y="${mid + 4}" ${TEXT}>${escapeHtml(values[i])}</text>`,
      `</g>`,
    );
  });
  parts.push(axis(l, ticks, toX, tickText, `share${size}`), key.svg, "</svg>");
  return parts.join("");
}

/** A round axis over the figures (from 0, or below it: KID can be negative) whose tick labels fit. */
function figureAxis(values: readonly number[]): NiceAxis {
  const shown = values.filter(finite);
  const low = Math.min(0, ...shown);
  const high = Math.max(0, ...shown);
  for (let intervals = 4; ; intervals--) {
    const candidate = niceAxis(low, high === low ? low + 1 : high, intervals);
    const spacing = PLOT_WIDTH / Math.max(1, candidate.ticks.length - 1);
    const widest = Math.max(
      ...candidate.ticks.map((t) => textWidth(fixed(t, candidate.decimals), FONT_SIZE)),
    );
    if (widest + 8 <= spacing || intervals === 1) return candidate;
  }
}

interface GroupChart {
  /** "FID", "KID ×10³": the axis, the tooltips and the legend name it. */
  metric: string;
  attribute: string;
  groups: readonly string[];
  /** Already in the chart's unit. */
  figures: readonly ChartFigure[];
  overall?: ChartFigure;
}

/** Bars of one metric per group with their intervals, the overall figure as a dashed line. */
function groupChart(chart: GroupChart): string {
  const values = chart.groups.map((_, i) => fixed(chart.figures[i]?.value ?? NaN, 2));
  const axisRange = figureAxis([
    chart.overall?.value ?? NaN,
    ...chart.figures.flatMap((f) => [f.value, f.interval?.lower ?? NaN, f.interval?.upper ?? NaN]),
  ]);
  const tickText = (v: number) => fixed(v, axisRange.decimals);
  const l = layout(chart.groups, values, tickOverhang(axisRange.ticks.map(tickText)));
  const span = axisRange.max - axisRange.min;
  const toX = (v: number) =>
    l.plotX + ((clamp(v, axisRange.min, axisRange.max) - axisRange.min) / span) * PLOT_WIDTH;
  const overall = chart.overall && finite(chart.overall.value) ? chart.overall : undefined;
  const items: LegendItem[] = [{ symbol: "bar", text: `${chart.metric} per group` }];
  if (chart.figures.some((f) => f.interval)) {
    items.push({
      symbol: "interval",
      text: intervalName(chart.figures.map((f) => f.interval?.level)),
    });
  }
  if (overall) {
    items.push({ symbol: "dashed", text: `overall ${chart.metric} ${fixed(overall.value, 2)}` });
  }
  const key = legend(items, l);
  const parts = [
    svgOpen(l.width, key.bottom, `${chart.metric} per ${chart.attribute} group`),
    grid(axisRange.ticks, toX, l.plotBottom),
  ];
  const x0 = toX(0);
  chart.groups.forEach((group, i) => {
    const y = TOP + i * l.row;
    const mid = y + l.row / 2;
    const f = chart.figures[i] ?? { value: NaN };
    const range = f.interval
      ? ` [${fixed(f.interval.lower, 2)}, ${fixed(f.interval.upper, 2)}]`
      : "";
    const sizes =
      f.nGenerated !== undefined
        ? ` (${f.nGenerated} generated vs ${f.nReal ?? "?"} real images)`
        : "";
    const tooltip = `${group}: ${chart.metric} ${fixed(f.value, 2)}${range}${sizes}`;
    const xv = toX(f.value);
    parts.push(
      `<g class="fd-group"><title>${escapeHtml(tooltip)}</title>`,
      groupLabel(l.labels[i], l.labelRight, mid),
      Number.isFinite(f.value)
        ? `<rect class="fd-bar" x="${r(Math.min(x0, xv))}" y="${mid - 7}" width="${r(Math.abs(xv - x0))}" height="14" fill="${CHART_COLORS.bar}"/>`
        : `<text class="fd-missing" x="${l.plotX + 4}" y="${mid + 4}" ${TEXT}>n/a (too few images)</text>`,
      f.interval ? whisker(f.interval.lower, f.interval.upper, mid, toX) : "",
      `<text class="fd-value" x="${l.valueX}" y="${mid + 4}" ${TEXT}>${escapeHtml(values[i])}</text>`,
      `</g>`,
    );
  });
  if (overall) {
    const x = r(toX(overall.value));
    parts.push(
      `<line class="fd-overall" x1="${x}" y1="${TOP}" x2="${x}" y2="${l.plotBottom}" ${DASHED(CHART_COLORS.target)}/>`,
    );
  }
  parts.push(
    axis(l, axisRange.ticks, toX, tickText, `${chart.metric} (lower is better)`),
    key.svg,
    "</svg>",
  );
  return parts.join("");
}

/** Per-group FID bars for one attribute, the overall FID as a dashed line. */
export function fidChart(quality: GroupFiguresData, overall?: ChartFigure): string {
  return groupChart({
    metric: "FID",
    attribute: quality.attribute,
    groups: quality.groups,
    figures: quality.perGroup,
    ...(overall ? { overall } : {}),
  });
}

function kidScaled(figure: ChartFigure, scale: KidScale): ChartFigure {
  const { value, nGenerated, nReal, interval } = figure;
  const factor = 10 ** scale.power;
  return {
    value: value * factor,
    nGenerated,
    nReal,
    ...(interval
      ? {
          interval: {
            lower: interval.lower * factor,
            upper: interval.upper * factor,
            level: interval.level,
          },
        }
      : {}),
  };
}

/** Per-group KID bars (on the report's KID scale) with their intervals; "" when it has no KID. */
export function kidChart(
  quality: GroupFiguresData,
  scale: KidScale,
  overall?: ChartFigure,
): string {
  if (!quality.perGroupKid) return "";
  return groupChart({
    metric: scale.label,
    attribute: quality.attribute,
    groups: quality.groups,
    figures: quality.perGroupKid.map((f) => kidScaled(f, scale)),
    ...(overall ? { overall: kidScaled(overall, scale) } : {}),
  });
}
