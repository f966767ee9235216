/**
 * An SVG chart as a notebook output that survives every viewer: `display(staticFigure(svg))`.
 * The bundle's text/html is an <img> with the SVG as a data URI — nbconvert 6.5 strips the
 * elements out of image/svg+xml outputs when it exports HTML (its sanitiser knows no SVG tags),
 * but leaves text/html alone; the raw SVG is kept too for frontends that prefer it.
 */
import { escapeHtml } from "../audit/reportText";

export interface StaticFigure {
  readonly svg: string;
  toMimeBundle(): Record<string, unknown>;
}

/** `alt` defaults to the SVG's aria-label (the charts here set it to their title). */
export function staticFigure(svg: string, alt?: string): StaticFigure {
  if (!svg.trimStart().startsWith("<svg")) {
    throw new Error(`staticFigure needs an SVG document, got "${svg.slice(0, 40)}…"`);
  }
  const label =
    alt !== undefined ? escapeHtml(alt) : (/aria-label="([^"]*)"/.exec(svg)?.[1] ?? "figure");
  const uri = `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
  return {
    svg,
    toMimeBundle: () => ({
      "text/html": `<img src="${uri}" alt="${label}"/>`,
      "image/svg+xml": svg,
      "text/plain": `[figure: ${label}]`,
    }),
  };
}
