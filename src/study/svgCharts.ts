/**
 * Small static SVG charts (no scripts, nothing fetched) for the study report and for notebooks:
 * a line chart of series against step (training curves) and a grouped bar chart of shares
 * (before / after / target). They are the static fallback of the live widgets: an SVG in a cell's
 * output survives nbconvert's HTML export, a widget view does not.
 */
import { niceTicks } from "../audit/chartAxis";
import { svgTextLines, textWidth, wrapText } from "../audit/chartText";
import { escapeHtml } from "../audit/reportText";

export { niceTicks };

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

function tickText(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.01) return value.toExponential(1);
  return Number(value.toPrecision(3)).toString();
}

const LEGEND_FONT = 11;
const LEGEND_ROW = 16;

/** Legend entries in rows of at most `width` px (a name wider than a row is cut with "…"). */
function legend(
  names: string[],
  width: number,
): { rows: number; draw: (x: number, y: number) => string } {
  const texts = names.map((name) =>
    wrapText(name, width - 14, { fontSize: LEGEND_FONT, maxLines: 1 }),
  );
  const places: { dx: number; row: number }[] = [];
  let dx = 0;
  let row = 0;
  texts.forEach((text) => {
    const w = 14 + text.width + 12;
    if (dx > 0 && dx + w - 12 > width) {
      dx = 0;
      row += 1;
    }
    places.push({ dx, row });
    dx += w;
  });
  return {
    rows: names.length === 0 ? 0 : row + 1,
    draw: (x, y) =>
      texts
        .map((text, i) => {
          const cx = x + places[i].dx;
          const cy = y + places[i].row * LEGEND_ROW;
          return (
            `<rect x="${r(cx)}" y="${r(cy - 8)}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>` +
            `<text x="${r(cx + 14)}" y="${r(cy + 1)}" font-size="${LEGEND_FONT}" fill="${TEXT}">${escapeHtml(text.lines[0])}</text>`
          );
        })
        .join(""),
  };
}

const TITLE_FONT = 13;
const GROUP_FONT = 11;
const GROUP_LINE = 13;
const TITLE_LINE = 17;

/** The chart's title wrapped to `width` (three lines at most; the aria-label keeps it whole). */
function titleText(title: string, x: number, width: number): { svg: string; extra: number } {
  const wrapped = wrapText(title, width, { fontSize: TITLE_FONT, bold: true, maxLines: 3 });
  return {
    svg: svgTextLines(
      wrapped.lines,
      x,
      16,
      TITLE_LINE,
      `font-size="${TITLE_FONT}" font-weight="bold" fill="${TEXT}"`,
    ),
    extra: (wrapped.lines.length - 1) * TITLE_LINE,
  };
}

/** A line chart of every series against x, on one y axis, with a legend below. */
export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const width = options.width ?? 560;
  const left = 56;
  const right = 16;
  const plotW = width - left - right;
  const title = titleText(options.title, left, plotW);
  const key = legend(
    series.map((s) => s.name),
    plotW,
  );
  // A longer title or legend makes the figure taller, not the plot smaller.
  const legendExtra = Math.max(0, key.rows - 1) * LEGEND_ROW;
  const height = (options.height ?? 260) + title.extra + legendExtra;
  const top = 28 + title.extra;
  const bottom = 40 + Math.max(1, key.rows) * LEGEND_ROW;
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
  const plotH = height - top - bottom;
  const toX = (x: number) =>
    left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const toY = (y: number) => top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.title)}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    title.svg,
  ];
  for (const t of niceTicks(yMin, yMax)) {
    const y = toY(t);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${r(y)}" y2="${r(y)}" stroke="${GRID}"/>`,
      `<text x="${left - 6}" y="${r(y + 4)}" font-size="11" text-anchor="end" fill="${MUTED}">${tickText(t)}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax, 6)) {
    parts.push(
      `<text x="${r(toX(t))}" y="${r(top + plotH + 14)}" font-size="11" text-anchor="middle" fill="${MUTED}">${tickText(t)}</text>`,
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
  parts.push(key.draw(left, top + plotH + 44));
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
  // Wide enough for the bars, and for the title up to 560 px (a longer title wraps).
  const left = 48;
  const right = 12;
  const titleWidth = textWidth(options.title, TITLE_FONT, true);
  const width =
    options.width ??
    Math.ceil(
      Math.max(320, 90 + k * (series.length * 26 + 30), Math.min(560, left + right + titleWidth)),
    );
  const plotW = width - left - right;
  const title = titleText(options.title, left, plotW);
  const cluster = plotW / Math.max(1, k);
  const barW = Math.min(26, (cluster - 14) / Math.max(1, series.length));
  // Group names wrap within their cluster (two lines; the bars' tooltips keep them whole).
  const labels = options.groups.map((group) =>
    wrapText(group, cluster - 6, { fontSize: GROUP_FONT, maxLines: 2 }),
  );
  const labelExtra = (Math.max(1, ...labels.map((l) => l.lines.length)) - 1) * GROUP_LINE;
  const key = legend(
    series.map((s) => s.name),
    plotW,
  );
  const legendExtra = (Math.max(1, key.rows) - 1) * LEGEND_ROW;
  const top = 28 + title.extra;
  const plotH = 160;
  const height = top + plotH + 62 + labelExtra + legendExtra;
  const toY = (v: number) => top + plotH - Math.min(1, Math.max(0, v)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${r(width)}" height="${height}" viewBox="0 0 ${r(width)} ${height}" role="img" aria-label="${escapeHtml(options.title)}" font-family="sans-serif">`,
    `<rect width="${r(width)}" height="${height}" fill="#ffffff"/>`,
    title.svg,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${r(width - right)}" y1="${r(toY(t))}" y2="${r(toY(t))}" stroke="${GRID}"/>`,
      `<text x="${left - 6}" y="${r(toY(t) + 4)}" font-size="11" text-anchor="end" fill="${MUTED}">${t * 100} %</text>`,
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
      svgTextLines(
        labels[g].lines,
        left + g * cluster + cluster / 2,
        top + plotH + 14,
        GROUP_LINE,
        `font-size="${GROUP_FONT}" text-anchor="middle" fill="${TEXT}"`,
      ),
    );
  });
  const legendY = top + plotH + 34 + labelExtra;
  parts.push(key.draw(left, legendY));
  if (options.target) {
    parts.push(
      `<text x="${left}" y="${legendY + legendExtra + 20}" font-size="11" fill="${TARGET}">dashed red: target share</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
