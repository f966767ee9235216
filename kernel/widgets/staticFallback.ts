/**
 * The static side of a widget's display: what a viewer without the fairdiff widget front end
 * shows (nbconvert's HTML export, GitHub, Jupyter without the extension) — a text/plain summary,
 * and for the figure widgets a text/html block of <img> figures. Figures are data URIs, not raw
 * <svg>: nbconvert 6.5 strips SVG elements (see src/study/staticFigure.ts). Built from the
 * widget's state when the display (or its snapshot) is sent, so they must stay cheap.
 */
import { escapeHtml } from "../../src/audit/reportText";
import { staticFigure } from "../../src/study/staticFigure";

export interface StaticFallback {
  /** One or more lines summarising the state in words and numbers. */
  text: string;
  /** Self-contained HTML (no scripts, nothing fetched); absent for widgets with no figure. */
  html?: string;
}

/** The class on every fallback block, so a front end that renders the widget could hide it. */
export const FALLBACK_CLASS = "fairdiff-widget-fallback";

export function percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}

/** An SVG chart as an <img> data URI (its aria-label becomes the alt text). */
export function svgImage(svg: string): string {
  return staticFigure(svg).toMimeBundle()["text/html"] as string;
}

export function pngImage(png: Uint8Array, alt: string): string {
  return `<img src="data:image/png;base64,${Buffer.from(png).toString("base64")}" alt="${escapeHtml(alt)}"/>`;
}

/** The block a widget's text/html holds: a title line, then its figures or notes. */
export function fallbackBlock(widget: string, title: string, body: string[]): string {
  return [
    `<div class="${FALLBACK_CLASS}" data-widget="${escapeHtml(widget)}">`,
    `<div><strong>${escapeHtml(title)}</strong> <small>(static copy of the ${escapeHtml(widget)} widget)</small></div>`,
    ...body,
    "</div>",
  ].join("\n");
}

export function note(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}
