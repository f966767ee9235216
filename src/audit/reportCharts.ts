/**
 * Inline SVG charts for the HTML report (no scripts, no fonts to fetch): one horizontal bar
 * chart per prompt and attribute — observed share with its interval, the target marked, the
 * confusion-corrected estimate as a ring — and one per attribute of per-group FID (and KID, with
 * its intervals) against the overall figure. Every piece of text is escaped.
 */
import type { AttributeRepresentation } from "./attributeRepresentation";
import type { FidFigure, GroupQuality, KidFigure } from "./qualityTypes";
import type { KidScale } from "./kidScale";
import { escapeHtml, fixed, percent, percentInterval } from "./reportText";

const WIDTH = 520;
const LABEL_WIDTH = 140;
const VALUE_WIDTH = 72;
const PLOT_X = LABEL_WIDTH + 8;
const PLOT_WIDTH = WIDTH - PLOT_X - VALUE_WIDTH;
const ROW = 28;
const TOP = 6;
const AXIS_HEIGHT = 22;
const LEGEND_HEIGHT = 22;

export const CHART_COLORS = {
  bar: "#4c78a8",
  interval: "#1f2328",
  target: "#c0392b",
  corrected: "#d35400",
  grid: "#e3e6ea",
  text: "#1f2328",
  muted: "#57606a",
};

/** Long names are cut in the chart (the table and the tooltip keep them whole). */
function label(name: string, max = 17): string {
  return escapeHtml(name.length > max ? `${name.slice(0, max - 1)}…` : name);
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function r(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function svgOpen(height: number, aria: string): string {
  return `<svg class="fd-chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(aria)}" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="12">`;
}

function axis(y: number, ticks: number[], toX: (v: number) => number, text: (v: number) => string) {
  const parts = [
    `<line x1="${PLOT_X}" y1="${y}" x2="${PLOT_X + PLOT_WIDTH}" y2="${y}" stroke="${CHART_COLORS.muted}"/>`,
  ];
  for (const tick of ticks) {
    const x = r(toX(tick));
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}" stroke="${CHART_COLORS.muted}"/>`,
      `<text x="${x}" y="${y + 16}" text-anchor="middle" fill="${CHART_COLORS.muted}">${text(tick)}</text>`,
    );
  }
  return parts.join("");
}

function grid(ticks: number[], toX: (v: number) => number, bottom: number): string {
  return ticks
    .map((tick) => {
      const x = r(toX(tick));
      return `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="${CHART_COLORS.grid}"/>`;
    })
    .join("");
}

function intervalBar(lower: number, upper: number, y: number, toX: (v: number) => number) {
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) return "";
  const [x1, x2] = [r(toX(lower)), r(toX(upper))];
  const stroke = `stroke="${CHART_COLORS.interval}" stroke-width="1.5"`;
  return (
    `<line class="fd-ci" x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" ${stroke}/>` +
    `<line x1="${x1}" y1="${y - 5}" x2="${x1}" y2="${y + 5}" ${stroke}/>` +
    `<line x1="${x2}" y1="${y - 5}" x2="${x2}" y2="${y + 5}" ${stroke}/>`
  );
}

/** Bar chart of one attribute's group shares for one prompt. */
export function proportionChart(a: AttributeRepresentation, context = ""): string {
  const k = a.groups.length;
  const plotBottom = TOP + k * ROW;
  const height = plotBottom + AXIS_HEIGHT + LEGEND_HEIGHT;
  const toX = (v: number) => PLOT_X + clamp01(v) * PLOT_WIDTH;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const parts = [
    svgOpen(height, `${a.attribute} shares of ${a.n} images${context ? ` for ${context}` : ""}`),
    grid(ticks, toX, plotBottom),
  ];
  a.groups.forEach((group, i) => {
    const y = TOP + i * ROW;
    const mid = y + ROW / 2;
    const p = a.proportions[i];
    const corrected = a.corrected?.[i];
    const tooltip = `${group}: ${percentInterval(p)} of ${a.n} images (${a.counts[i]} counted); target ${percent(a.target[i])}${corrected ? `; corrected ${percentInterval(corrected)}` : ""}`;
    parts.push(
      `<g class="fd-group"><title>${escapeHtml(tooltip)}</title>`,
      `<text x="${LABEL_WIDTH}" y="${mid + 4}" text-anchor="end" fill="${CHART_COLORS.text}">${label(group)}</text>`,
      `<rect class="fd-bar" x="${PLOT_X}" y="${y + 6}" width="${r(clamp01(p.estimate) * PLOT_WIDTH)}" height="${ROW - 12}" fill="${CHART_COLORS.bar}"/>`,
      intervalBar(p.lower, p.upper, mid, toX),
      `<line class="fd-target" x1="${r(toX(a.target[i]))}" y1="${y + 2}" x2="${r(toX(a.target[i]))}" y2="${y + ROW - 2}" stroke="${CHART_COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/>`,
      corrected && Number.isFinite(corrected.estimate)
        ? `<circle class="fd-corrected" cx="${r(toX(corrected.estimate))}" cy="${mid}" r="4" fill="#ffffff" stroke="${CHART_COLORS.corrected}" stroke-width="2"/>`
        : "",
      `<text x="${WIDTH - VALUE_WIDTH + 8}" y="${mid + 4}" fill="${CHART_COLORS.text}">${percent(p.estimate)}</text>`,
      `</g>`,
    );
  });
  parts.push(axis(plotBottom, ticks, toX, (v) => `${Math.round(v * 100)} %`));
  parts.push(legend(height - 6, a.corrected !== undefined));
  parts.push("</svg>");
  return parts.join("");
}

function legend(y: number, withCorrected: boolean): string {
  const items = [
    `<rect x="${PLOT_X}" y="${y - 9}" width="14" height="10" fill="${CHART_COLORS.bar}"/><text x="${PLOT_X + 18}" y="${y}" fill="${CHART_COLORS.muted}">share, 95 % CI</text>`,
    `<line x1="${PLOT_X + 124}" y1="${y - 10}" x2="${PLOT_X + 124}" y2="${y + 2}" stroke="${CHART_COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/><text x="${PLOT_X + 130}" y="${y}" fill="${CHART_COLORS.muted}">target</text>`,
  ];
  if (withCorrected) {
    items.push(
      `<circle cx="${PLOT_X + 186}" cy="${y - 4}" r="4" fill="#ffffff" stroke="${CHART_COLORS.corrected}" stroke-width="2"/><text x="${PLOT_X + 194}" y="${y}" fill="${CHART_COLORS.muted}">corrected</text>`,
    );
  }
  return `<g class="fd-legend">${items.join("")}</g>`;
}

/** A round axis maximum above `value` (1, 2, 2.5, 5 × 10^k). */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** One group's figure as a chart draws it (already in the chart's unit). */
interface ChartFigure {
  value: number;
  nGenerated: number;
  nReal: number;
  interval?: { lower: number; upper: number };
}

interface GroupChart {
  /** "FID", "KID ×10³": the axis, the tooltips and the legend name it. */
  metric: string;
  attribute: string;
  groups: readonly string[];
  figures: readonly ChartFigure[];
  overall?: ChartFigure;
}

/**
 * Bars of one metric per group with their intervals, the overall figure as a dashed line. The
 * axis starts at 0, or below it when a figure or interval is negative (KID can be).
 */
function groupChart(chart: GroupChart): string {
  const k = chart.groups.length;
  const plotBottom = TOP + k * ROW;
  const height = plotBottom + AXIS_HEIGHT + LEGEND_HEIGHT;
  const finite = [
    chart.overall?.value ?? NaN,
    ...chart.figures.flatMap((f) => [f.value, f.interval?.lower ?? NaN, f.interval?.upper ?? NaN]),
  ].filter((v) => Number.isFinite(v));
  const high = niceMax(Math.max(0, ...finite));
  const lowest = Math.min(0, ...finite);
  const low = lowest < 0 ? -niceMax(-lowest) : 0;
  const toX = (v: number) =>
    PLOT_X + ((Math.min(high, Math.max(low, v)) - low) / (high - low)) * PLOT_WIDTH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => low + t * (high - low));
  const digits = high - low >= 10 ? 0 : 2;
  const parts = [
    svgOpen(height, `${chart.metric} per ${chart.attribute} group`),
    grid(ticks, toX, plotBottom),
  ];
  const x0 = toX(0);
  chart.groups.forEach((group, i) => {
    const y = TOP + i * ROW;
    const mid = y + ROW / 2;
    const f = chart.figures[i];
    const range = f.interval
      ? ` [${fixed(f.interval.lower, digits)}, ${fixed(f.interval.upper, digits)}]`
      : "";
    const tooltip = `${group}: ${chart.metric} ${fixed(f.value, 2)}${range} (${f.nGenerated} generated vs ${f.nReal} real images)`;
    const xv = toX(f.value);
    parts.push(
      `<g class="fd-group"><title>${escapeHtml(tooltip)}</title>`,
      `<text x="${LABEL_WIDTH}" y="${mid + 4}" text-anchor="end" fill="${CHART_COLORS.text}">${label(group)}</text>`,
      Number.isFinite(f.value)
        ? `<rect class="fd-bar" x="${r(Math.min(x0, xv))}" y="${y + 6}" width="${r(Math.abs(xv - x0))}" height="${ROW - 12}" fill="${CHART_COLORS.bar}"/>`
        : `<text x="${PLOT_X + 4}" y="${mid + 4}" fill="${CHART_COLORS.muted}">n/a (too few images)</text>`,
      f.interval ? intervalBar(f.interval.lower, f.interval.upper, mid, toX) : "",
      `<text x="${WIDTH - VALUE_WIDTH + 8}" y="${mid + 4}" fill="${CHART_COLORS.text}">${fixed(f.value, 2)}</text>`,
      `</g>`,
    );
  });
  const overall = chart.overall;
  if (overall && Number.isFinite(overall.value)) {
    const x = r(toX(overall.value));
    parts.push(
      `<line class="fd-overall" x1="${x}" y1="${TOP}" x2="${x}" y2="${plotBottom}" stroke="${CHART_COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/>`,
    );
  }
  parts.push(axis(plotBottom, ticks, toX, (v) => fixed(v, digits)));
  const y = height - 6;
  const name = escapeHtml(chart.metric);
  parts.push(
    `<g class="fd-legend"><rect x="${PLOT_X}" y="${y - 9}" width="14" height="10" fill="${CHART_COLORS.bar}"/><text x="${PLOT_X + 18}" y="${y}" fill="${CHART_COLORS.muted}">group ${name}</text>`,
    overall
      ? `<line x1="${PLOT_X + 130}" y1="${y - 10}" x2="${PLOT_X + 130}" y2="${y + 2}" stroke="${CHART_COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/><text x="${PLOT_X + 136}" y="${y}" fill="${CHART_COLORS.muted}">overall ${name} ${fixed(overall.value, 2)}</text>`
      : "",
    `</g>`,
  );
  parts.push("</svg>");
  return parts.join("");
}

/** Per-group FID bars for one attribute, the overall FID as a dashed line. */
export function fidChart(quality: GroupQuality, overall: FidFigure): string {
  return groupChart({
    metric: "FID",
    attribute: quality.attribute,
    groups: quality.groups,
    figures: quality.perGroup,
    overall,
  });
}

function kidScaled(figure: KidFigure, scale: KidScale): ChartFigure {
  const { value, nGenerated, nReal, interval } = figure;
  const factor = 10 ** scale.power;
  return {
    value: value * factor,
    nGenerated,
    nReal,
    ...(interval
      ? { interval: { lower: interval.lower * factor, upper: interval.upper * factor } }
      : {}),
  };
}

/** Per-group KID bars (on the report's KID scale) with their intervals; "" when it has no KID. */
export function kidChart(quality: GroupQuality, scale: KidScale, overall?: KidFigure): string {
  if (!quality.perGroupKid) return "";
  return groupChart({
    metric: scale.label,
    attribute: quality.attribute,
    groups: quality.groups,
    figures: quality.perGroupKid.map((f) => kidScaled(f, scale)),
    ...(overall ? { overall: kidScaled(overall, scale) } : {}),
  });
}
