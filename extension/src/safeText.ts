/**
 * Group names, prompts and file names come from users and data files: they are only ever set as
 * text (textContent, attributes), never parsed as HTML.
 */

/** Creates an element whose content is `text`, shown literally. */
export function textElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

/**
 * plotly.js reads a few HTML-like tags (<b>, <br>, <a href>) in labels; escaping < > & keeps a
 * label such as "<img src=x>" literal in a chart.
 */
export function plotlyText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Formats a probability for labels: three decimals, no exponent. */
export function formatProportion(p: number): string {
  return Number.isFinite(p) ? p.toFixed(3) : "–";
}
