/**
 * Measures the report's SVG charts as Chromium lays them out: every <text>'s box, against every
 * other text of its chart (no two may overlap) and against the chart's own box (none may be cut
 * by the viewport), its colour against the background it is drawn on (WCAG contrast), and its
 * font size. Runs in the page; returns what it found in words, so a failure names the labels.
 */
import type { Page } from "playwright-core";

export interface ChartMeasurement {
  /** The chart's aria-label. */
  chart: string;
  texts: number;
  legendTexts: number;
  axisTitles: number;
}

export interface ChartLayout {
  charts: ChartMeasurement[];
  /** "sex shares …: "Female×…" overlaps "25 %"" and the like; empty when all is well. */
  problems: string[];
}

/** Browser-side code, as a string: the test project's types have no DOM. */
const MEASURE = `(({ selector, minContrast, minFontSize }) => {
  const parse = (css) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(css || "");
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  /** The colour behind an element: every ancestor's background composited over the canvas. */
  const background = (element) => {
    const chain = [];
    for (let e = element; e; e = e.parentElement) chain.unshift(e);
    const canvas = getComputedStyle(document.documentElement).colorScheme === "dark" ? 18 : 255;
    let colour = { r: canvas, g: canvas, b: canvas, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) colour = over(c, colour);
    }
    return colour;
  };
  const tolerance = 0.5;
  const charts = [];
  const problems = [];
  for (const svg of document.querySelectorAll(selector)) {
    const name = svg.getAttribute("aria-label") || "chart";
    const frame = svg.getBoundingClientRect();
    const behind = background(svg);
    const texts = [...svg.querySelectorAll("text")]
      .map((element) => ({ element, box: element.getBoundingClientRect(), text: element.textContent }))
      .filter((t) => t.box.width > 0 && t.box.height > 0);
    for (const t of texts) {
      const b = t.box;
      if (b.left < frame.left - tolerance || b.right > frame.right + tolerance ||
          b.top < frame.top - tolerance || b.bottom > frame.bottom + tolerance) {
        problems.push(name + ': "' + t.text + '" is cut by the chart\\'s edge');
      }
      const style = getComputedStyle(t.element);
      const fill = parse(style.fill);
      const ratio = fill ? contrast(over(fill, behind), behind) : 0;
      if (ratio < minContrast) {
        problems.push(name + ': "' + t.text + '" has contrast ' + ratio.toFixed(2) + " (" + style.fill + ")");
      }
      const size = parseFloat(style.fontSize) * (frame.width / svg.viewBox.baseVal.width || 1);
      if (size < minFontSize) {
        problems.push(name + ': "' + t.text + '" is ' + size.toFixed(1) + " px");
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].box;
        const b = texts[j].box;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > tolerance && h > tolerance) {
          problems.push(name + ': "' + texts[i].text + '" overlaps "' + texts[j].text + '"');
        }
      }
    }
    charts.push({
      chart: name,
      texts: texts.length,
      legendTexts: svg.querySelectorAll(".fd-legend text").length,
      axisTitles: svg.querySelectorAll(".fd-axis-title").length,
    });
  }
  return { charts, problems };
})`;

/** Measures every chart matching `selector` (by default the report's, `svg.fd-chart`). */
export function measureCharts(
  page: Page,
  selector = "svg.fd-chart",
  options: { minContrast?: number; minFontSize?: number } = {},
): Promise<ChartLayout> {
  const args = {
    selector,
    minContrast: options.minContrast ?? 4.5,
    minFontSize: options.minFontSize ?? 11.5,
  };
  return page.evaluate(`${MEASURE}(${JSON.stringify(args)})`) as Promise<ChartLayout>;
}
