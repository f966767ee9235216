/**
 * SVG markup made into DOM without trusting it: the report's charts come as SVG strings from the
 * same code as the HTML report's (src/audit/reportCharts.ts), and a notebook is untrusted input —
 * a crafted report could try to smuggle script into a chart. So the markup is parsed as XML (no
 * HTML parsing quirks, nothing runs while parsing) and kept only when every element and
 * attribute is on an allow-list: drawing elements and text, no script, style, foreignObject,
 * links, animation or use; no event handlers, no href, no url() or script/data URLs in values.
 * Anything else refuses the whole chart rather than trying to repair it.
 */
const SVG_NS = "http://www.w3.org/2000/svg";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";

const ELEMENTS = new Set([
  "svg",
  "g",
  "rect",
  "line",
  "polyline",
  "path",
  "circle",
  "text",
  "tspan",
  "title",
  "desc",
]);

const ATTRIBUTES = new Set([
  "class",
  "role",
  "aria-label",
  "width",
  "height",
  "viewBox",
  "x",
  "y",
  "x1",
  "y1",
  "x2",
  "y2",
  "cx",
  "cy",
  "r",
  "d",
  "points",
  "transform",
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-opacity",
  "stroke-dasharray",
  "opacity",
  "font-family",
  "font-size",
  "font-weight",
  "text-anchor",
  "dominant-baseline",
]);

/** Values that could fetch or run something, wherever they appear. */
const ACTIVE_VALUE = /url\s*\(|javascript:|vbscript:|data:/i;

export class UnsafeSvgError extends Error {}

function check(element: Element): void {
  if (element.namespaceURI !== SVG_NS || !ELEMENTS.has(element.localName)) {
    throw new UnsafeSvgError(`<${element.localName}> is not allowed in a chart`);
  }
  for (const attribute of Array.from(element.attributes)) {
    if (attribute.namespaceURI === XMLNS_NS) {
      if (attribute.localName === "xmlns" && attribute.value === SVG_NS) continue;
      throw new UnsafeSvgError(`namespace declaration ${attribute.name} is not allowed`);
    }
    if (attribute.namespaceURI !== null || !ATTRIBUTES.has(attribute.localName)) {
      throw new UnsafeSvgError(`attribute ${attribute.name} is not allowed in a chart`);
    }
    // aria-label is only ever read out as text; elsewhere an active value is refused.
    if (attribute.localName !== "aria-label" && ACTIVE_VALUE.test(attribute.value)) {
      throw new UnsafeSvgError(`attribute ${attribute.name}="${attribute.value}" is not allowed`);
    }
  }
  for (const child of Array.from(element.childNodes)) {
    if (child.nodeType === Node.ELEMENT_NODE) check(child as Element);
    else if (child.nodeType !== Node.TEXT_NODE && child.nodeType !== Node.CDATA_SECTION_NODE) {
      throw new UnsafeSvgError(`a ${child.nodeName} node is not allowed in a chart`);
    }
  }
}

/**
 * The chart `markup` as an <svg> element of this document, after the allow-list check; throws
 * an UnsafeSvgError naming the first thing refused.
 */
export function safeSvgElement(markup: string): SVGSVGElement {
  const parsed = new DOMParser().parseFromString(markup, "image/svg+xml");
  const root = parsed.documentElement;
  if (parsed.getElementsByTagName("parsererror").length > 0 || root.localName !== "svg") {
    throw new UnsafeSvgError("the chart is not well-formed SVG");
  }
  check(root);
  return document.importNode(root, true) as unknown as SVGSVGElement;
}
