/**
 * Values that display as a given mime type: return one as a cell's last expression, pass it to
 * `display`, or use it to update a display in place.
 */
import type { MimeBundle, MimeBundleProvider } from "./mimeBundle";
import { readableJson } from "./readableJson";

export class Rich implements MimeBundleProvider {
  constructor(
    readonly bundle: MimeBundle,
    readonly label: string,
  ) {}

  toMimeBundle(): MimeBundle {
    return { "text/plain": this.label, ...this.bundle };
  }
}

export const html = (source: string): Rich => new Rich({ "text/html": source }, "<HTML>");
export const markdown = (source: string): Rich => new Rich({ "text/markdown": source }, source);
export const latex = (source: string): Rich => new Rich({ "text/latex": source }, source);
export const svg = (source: string): Rich => new Rich({ "image/svg+xml": source }, "<SVG image>");
export const png = (bytes: Uint8Array): Rich => new Rich({ "image/png": bytes }, "<PNG image>");
export const jpeg = (bytes: Uint8Array): Rich => new Rich({ "image/jpeg": bytes }, "<JPEG image>");
/** Full values for JSON viewers; indented, rounded text for everything else. */
export const json = (value: unknown): Rich =>
  new Rich({ "application/json": value }, readableJson(value));

export interface PlotlyFigure {
  data: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** A plotly figure, rendered by JupyterLab's built-in plotly mime renderer. */
export const plotly = (figure: PlotlyFigure): Rich =>
  new Rich({ "application/vnd.plotly.v1+json": figure }, "<Plotly figure>");

/** Any mime bundle, e.g. `{ "text/html": ..., "application/x-mine+json": ... }`. */
export const mimeBundle = (bundle: MimeBundle): Rich =>
  new Rich(bundle, String(bundle["text/plain"] ?? "<rich output>"));
