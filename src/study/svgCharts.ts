/**
 * Small static SVG charts (no scripts, nothing fetched) for the study report and for notebooks:
 * a line chart of series against step (training curves) and a grouped bar chart of shares
 * (before / after / target). They are the static fallback of the live widgets: an SVG in a cell's
 * output survives nbconvert's HTML export, a widget view does not.
 */
import { escapeHtml } from "../audit/reportText";

const COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d"];
const TEXT = "#1f2328";
const MUTED = "#57606a";
const GRID = "#e3e6ea";
const TARGET = "#c0392b";

export interface LineSeries {
  name: string;
  /** (x, y) points; non-finite y values are skipped (a gap, not a zero). */
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

function r(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** 0, 1, 2 or 5 × 10^k steps covering [min, max] in about `count` ticks. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max === min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const first = Math.ceil(min / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickText(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.01) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}

function legend(names: string[], x: number, y: number, width: number): string {
  let cx = x;
  let cy = y;
  const parts: string[] = [];
  names.forEach((name, i) => {
    const w = 22 + Math.min(name.length, 28) * 6.5;
    if (cx + w > x + width && cx > x) {
      cx = x;
      cy += 16;
    }
    parts.push(
      `<rect x="${r(cx)}" y="${r(cy - 8)}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${r(cx + 14)}" y="${r(cy + 1)}" font-size="11" fill="${TEXT}">${escapeHtml(name.length > 28 ? `${name.slice(0, 27)}…` : name)}</text>`,
    );
    cx += w;
  });
  return parts.join("");
}

/** A line chart of every series against x, on one y axis, with a legend below. */
export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 260;
  const left = 56;
  const right = 16;
  const top = 28;
  const legendRows = Math.max(1, Math.ceil(series.length / 3));
  const bottom = 40 + legendRows * 16;
  const points = series.flatMap((s) => s.points.filter(([x, y]) => isFinite(x) && isFinite(y)));
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  let yMin = ys.length ? Math.min(0, ...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  if (yMax === yMin) {
    yMax += 1;
    yMin -= yMin === 0 ? 0 : 1;
  }
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const toX = (x: number) =>
    left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const toY = (y: number) => top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold" fill="${TEXT}">${escapeHtml(options.title)}</text>`,
  ];
  for (const t of niceTicks(yMin, yMax)) {
    const y = toY(t);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${r(y)}" y2="${r(y)}" stroke="${GRID}"/>`,
      `<text x="${left - 6}" y="${r(y + 4)}" font-size="10" text-anchor="end" fill="${MUTED}">${tickText(t)}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax, 6)) {
    parts.push(
      `<text x="${r(toX(t))}" y="${r(top + plotH + 14)}" font-size="10" text-anchor="middle" fill="${MUTED}">${tickText(t)}</text>`,
    );
  }
  if (options.xLabel) {
    parts.push(
      `<text x="${r(left + plotW / 2)}" y="${r(top + plotH + 28)}" font-size="11" text-anchor="middle" fill="${MUTED}">${escapeHtml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    parts.push(
      `<text x="12" y="${r(top + plotH / 2)}" font-size="11" text-anchor="middle" fill="${MUTED}" transform="rotate(-90 12 ${r(top + plotH / 2)})">${escapeHtml(options.yLabel)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const valid = s.points.filter(([x, y]) => isFinite(x) && isFinite(y));
    if (valid.length > 1) {
      const path = valid.map(([x, y], j) => `${j === 0 ? "M" : "L"}${r(toX(x))},${r(toY(y))}`);
      parts.push(`<path d="${path.join(" ")}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    }
    for (const [x, y] of valid) {
      parts.push(`<circle cx="${r(toX(x))}" cy="${r(toY(y))}" r="2.4" fill="${color}"/>`);
    }
  });
  parts.push(
    legend(
      series.map((s) => s.name),
      left,
      height - bottom + 44,
      plotW,
    ),
  );
  parts.push("</svg>");
  return parts.join("\n");
}

export interface BarSeries {
  name: string;
  /** One value per group, in [0, 1]. */
  values: readonly number[];
  /** Optional interval per group. */
  lower?: readonly number[];
  upper?: readonly number[];
}

export interface BarChartOptions {
  title: string;
  groups: readonly string[];
  /** The target share of each group, drawn as a red tick across the group's bars. */
  target?: readonly number[];
  width?: number;
}

/** Vertical grouped bars of shares (0–100 %), one cluster per group, optional target ticks. */
export function shareBarChartSvg(series: readonly BarSeries[], options: BarChartOptions): string {
  const k = options.groups.length;
  for (const s of series) {
    if (s.values.length !== k) {
      throw new Error(`bar series "${s.name}" has ${s.values.length} values for ${k} groups`);
    }
  }
  // Wide enough for the bars and for the title (about 7 px a character at 13 px).
  const width =
    options.width ??
    Math.max(320, 90 + k * (series.length * 26 + 30), 60 + options.title.length * 7);
  const height = 250;
  const left = 48;
  const right = 12;
  const top = 28;
  const bottom = 62;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const toY = (v: number) => top + plotH - Math.min(1, Math.max(0, v)) * plotH;
  const cluster = plotW / Math.max(1, k);
  const barW = Math.min(26, (cluster - 14) / Math.max(1, series.length));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${r(width)}" height="${height}" viewBox="0 0 ${r(width)} ${height}" role="img" aria-label="${escapeHtml(options.title)}" font-family="sans-serif">`,
    `<rect width="${r(width)}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold" fill="${TEXT}">${escapeHtml(options.title)}</text>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${r(width - right)}" y1="${r(toY(t))}" y2="${r(toY(t))}" stroke="${GRID}"/>`,
      `<text x="${left - 6}" y="${r(toY(t) + 4)}" font-size="10" text-anchor="end" fill="${MUTED}">${t * 100} %</text>`,
    );
  }
  options.groups.forEach((group, g) => {
    const x0 = left + g * cluster + (cluster - barW * series.length) / 2;
    series.forEach((s, i) => {
      const x = x0 + i * barW;
      const v = s.values[g];
      parts.push(
        `<rect x="${r(x + 1)}" y="${r(toY(v))}" width="${r(barW - 2)}" height="${r(toY(0) - toY(v))}" fill="${COLORS[i % COLORS.length]}"><title>${escapeHtml(`${s.name} ${group}: ${(v * 100).toFixed(1)} %`)}</title></rect>`,
      );
      const lo = s.lower?.[g];
      const hi = s.upper?.[g];
      if (lo !== undefined && hi !== undefined && isFinite(lo) && isFinite(hi)) {
        const cx = x + barW / 2;
        parts.push(
          `<line x1="${r(cx)}" x2="${r(cx)}" y1="${r(toY(lo))}" y2="${r(toY(hi))}" stroke="${TEXT}" stroke-width="1.2"/>`,
        );
      }
    });
    const t = options.target?.[g];
    if (t !== undefined) {
      parts.push(
        `<line x1="${r(x0 - 4)}" x2="${r(x0 + barW * series.length + 4)}" y1="${r(toY(t))}" y2="${r(toY(t))}" stroke="${TARGET}" stroke-width="2" stroke-dasharray="4 2"/>`,
      );
    }
    parts.push(
      `<text x="${r(left + g * cluster + cluster / 2)}" y="${r(top + plotH + 14)}" font-size="11" text-anchor="middle" fill="${TEXT}">${escapeHtml(group)}</text>`,
    );
  });
  const names = series.map((s) => s.name);
  parts.push(legend(names, left, top + plotH + 34, plotW));
  if (options.target) {
    parts.push(
      `<text x="${left}" y="${top + plotH + 54}" font-size="10" fill="${TARGET}">dashed red: target share</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
