/**
 * Draws an audit report from its JSON alone (tables and SVG bar charts with interval whiskers),
 * so a saved notebook shows it with no kernel. Every string from the report is set as text.
 */
import { formatProportion, textElement } from "../safeText";
import {
  type AttributeRow,
  type Figure,
  formatKid,
  kidScaleOf,
  type MemorisationSection,
  type PromptSection,
  type QualitySection,
  readAuditReport,
} from "./reportJson";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  return element;
}

function svgText(x: number, y: number, text: string, anchor = "middle"): SVGTextElement {
  const element = svg("text", { x, y, "text-anchor": anchor, class: "fd-report-axis" });
  element.textContent = text;
  return element;
}

function interval(f: Figure | undefined): string {
  if (!f) return "–";
  const range =
    f.lower !== undefined && f.upper !== undefined
      ? ` [${formatProportion(f.lower)}, ${formatProportion(f.upper)}]`
      : "";
  return `${formatProportion(f.estimate)}${range}`;
}

function table(headers: string[], rows: string[][], caption?: string): HTMLTableElement {
  const element = document.createElement("table");
  element.className = "fd-report-table";
  if (caption) element.appendChild(textElement("caption", caption));
  const head = element.createTHead().insertRow();
  for (const h of headers) {
    const cell = textElement("th", h);
    cell.scope = "col";
    head.appendChild(cell);
  }
  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((value, i) => {
      const cell = i === 0 ? textElement("th", value) : textElement("td", value);
      if (i === 0) (cell as HTMLTableCellElement).scope = "row";
      tr.appendChild(cell);
    });
  }
  return element;
}

/** Bars for the generated shares, whiskers for their intervals, a tick for the target. */
function shareChart(row: AttributeRow): SVGSVGElement {
  const barWidth = 38;
  const gap = 18;
  const height = 150;
  const top = 10;
  const bottom = 40;
  const left = 36;
  const width = left + row.groups.length * (barWidth + gap) + gap;
  const chart = svg("svg", {
    width,
    height: height + top + bottom,
    viewBox: `0 0 ${width} ${height + top + bottom}`,
    class: "fd-report-chart",
    role: "img",
  });
  const title = svg("title", {});
  title.textContent = `${row.attribute}: generated share per group with interval, and target`;
  chart.appendChild(title);
  const y = (p: number) => top + height * (1 - Math.min(Math.max(p, 0), 1));
  for (const tick of [0, 0.5, 1]) {
    chart.appendChild(
      svg("line", { x1: left, x2: width, y1: y(tick), y2: y(tick), class: "fd-report-grid" }),
    );
    chart.appendChild(svgText(left - 4, y(tick) + 4, tick.toFixed(1), "end"));
  }
  row.groups.forEach((group, i) => {
    const x = left + gap + i * (barWidth + gap);
    const f = row.proportions[i];
    if (f && Number.isFinite(f.estimate)) {
      chart.appendChild(
        svg("rect", {
          x,
          y: y(f.estimate),
          width: barWidth,
          height: Math.max(0, y(0) - y(f.estimate)),
          class: "fd-report-bar",
        }),
      );
      if (f.lower !== undefined && f.upper !== undefined) {
        const cx = x + barWidth / 2;
        chart.appendChild(
          svg("line", {
            x1: cx,
            x2: cx,
            y1: y(f.lower),
            y2: y(f.upper),
            class: "fd-report-whisker",
          }),
        );
      }
    }
    const target = row.target?.[i];
    if (target !== undefined && Number.isFinite(target)) {
      chart.appendChild(
        svg("line", {
          x1: x - 4,
          x2: x + barWidth + 4,
          y1: y(target),
          y2: y(target),
          class: "fd-report-target",
        }),
      );
    }
    const label = group.length > 12 ? `${group.slice(0, 11)}…` : group;
    chart.appendChild(svgText(x + barWidth / 2, top + height + 16, label));
  });
  return chart;
}

function attributeBlock(row: AttributeRow): HTMLElement {
  const block = document.createElement("div");
  block.className = "fd-report-attribute";
  const n = row.n !== undefined ? ` (n = ${row.n})` : "";
  block.appendChild(textElement("h4", `${row.attribute}${n}`));
  const rows = row.groups.map((g, i) => [
    g,
    interval(row.proportions[i]),
    row.target && Number.isFinite(row.target[i]) ? formatProportion(row.target[i]) : "–",
  ]);
  const figures = document.createElement("div");
  figures.className = "fd-report-figures";
  figures.append(table(["group", "generated share [interval]", "target"], rows), shareChart(row));
  block.appendChild(figures);
  const summary: string[] = [];
  if (row.bias) summary.push(`bias ${interval(row.bias)}`);
  if (row.totalVariation) summary.push(`total variation ${interval(row.totalVariation)}`);
  if (summary.length) block.appendChild(textElement("p", summary.join(" · "), "fd-report-summary"));
  return block;
}

function promptBlock(section: PromptSection): HTMLElement {
  const block = document.createElement("section");
  block.className = "fd-report-prompt";
  const heading = textElement("h3", "Prompt: ");
  heading.appendChild(textElement("q", section.prompt));
  if (section.n !== undefined)
    heading.appendChild(document.createTextNode(` — ${section.n} images`));
  block.appendChild(heading);
  for (const row of section.attributes) block.appendChild(attributeBlock(row));
  for (const row of section.intersections) block.appendChild(attributeBlock(row));
  return block;
}

function qualityBlock(quality: QualitySection): HTMLElement {
  const block = document.createElement("section");
  block.className = "fd-report-quality";
  const hasKid = quality.overallKid !== undefined || quality.byAttribute.some((a) => a.kid);
  const scale = kidScaleOf([
    quality.overallKid,
    ...quality.byAttribute.flatMap((a) => a.kid ?? []),
  ]);
  block.appendChild(
    textElement("h3", `Image quality (FID${hasKid ? " and KID" : ""}, lower is better)`),
  );
  if (quality.overall) {
    const sizes =
      quality.overall.nGenerated !== undefined
        ? ` (${quality.overall.nGenerated} generated vs ${quality.overall.nReal ?? "?"} real)`
        : "";
    const extractor = quality.extractor ? `, features: ${quality.extractor}` : "";
    const kid = quality.overallKid
      ? `, ${scale.label} ${formatKid(quality.overallKid, scale)}`
      : "";
    block.appendChild(
      textElement(
        "p",
        `Overall FID ${quality.overall.estimate.toFixed(2)}${kid}${sizes}${extractor}`,
      ),
    );
  }
  if (hasKid) {
    block.appendChild(
      textElement(
        "p",
        `KID: unbiased MMD² with the cubic kernel, shown as ${scale.label} (its size depends on the feature extractor), with its half-sampling interval; unlike FID not biased upward at small n, so groups of different sizes compare fairly.`,
        "fd-report-summary",
      ),
    );
  }
  for (const a of quality.byAttribute) {
    const rows = a.groups.map((g, i) => [
      g,
      a.fid[i] ? a.fid[i].estimate.toFixed(2) : "–",
      ...(hasKid ? [formatKid(a.kid?.[i], scale)] : []),
    ]);
    const es = a.esFid !== undefined ? ` — ES-FID ${a.esFid.toFixed(2)}` : "";
    const headers = ["group", "FID", ...(hasKid ? [`${scale.label} [interval]`] : [])];
    block.appendChild(table(headers, rows, `${a.attribute}${es}`));
  }
  return block;
}

function shareText(f: Figure | undefined): string {
  return f && Number.isFinite(f.estimate) ? interval(f) : "–";
}

function memorisationBlock(m: MemorisationSection): HTMLElement {
  const block = document.createElement("section");
  block.className = "fd-report-memorisation";
  block.appendChild(textElement("h3", "Memorisation: near-copies of training images"));
  const level =
    m.level !== undefined
      ? ` (thresholds set to flag ${formatProportion(m.level)} of held-out real images)`
      : "";
  if (m.overall) {
    block.appendChild(
      textElement(
        "p",
        `${m.overall.nearCopies ?? "?"} of ${m.overall.n ?? "?"} generated images are near-copies: ${shareText(m.overall.share)}${level}.`,
      ),
    );
  }
  if (m.training)
    block.appendChild(textElement("p", `Training images: ${m.training}.`, "fd-report-summary"));
  for (const a of m.byAttribute) {
    const rows = a.groups.map((g) => [
      g.group,
      String(g.n ?? "–"),
      String(g.nearCopies ?? "–"),
      shareText(g.share),
      shareText(g.nullShare),
    ]);
    block.appendChild(
      table(
        ["group", "n", "near-copies", "share [interval]", "held-out null share"],
        rows,
        a.attribute,
      ),
    );
  }
  if (m.pairs.length > 0) {
    block.appendChild(
      textElement(
        "p",
        "Most copy-like generated images (left) beside their nearest training image of the same groups (right):",
        "fd-report-summary",
      ),
    );
    const pairs = document.createElement("div");
    pairs.className = "fd-report-pairs";
    for (const pair of m.pairs) {
      const figure = document.createElement("figure");
      for (const [png, alt] of [
        [pair.generatedPng, "generated image"],
        [pair.trainingPng, "nearest training image"],
      ] as const) {
        const img = document.createElement("img");
        img.src = `data:image/png;base64,${png}`;
        img.width = pair.width;
        img.height = pair.height;
        img.alt = alt;
        img.style.imageRendering = "pixelated";
        figure.appendChild(img);
      }
      figure.appendChild(textElement("figcaption", pair.caption));
      pairs.appendChild(figure);
    }
    block.appendChild(pairs);
  }
  return block;
}

/** Renders the report into `host` (replacing its content); errors are shown, not thrown. */
export function renderAuditReport(host: HTMLElement, data: unknown): void {
  host.replaceChildren();
  host.classList.add("fd-report");
  let report;
  try {
    report = readAuditReport(data);
  } catch (error) {
    host.appendChild(textElement("div", String((error as Error).message), "fd-error"));
    return;
  }
  host.appendChild(textElement("h2", report.title));
  const meta = [`schema v${report.schemaVersion}`];
  if (report.createdAt) meta.unshift(report.createdAt);
  host.appendChild(textElement("p", meta.join(" · "), "fd-report-meta"));
  for (const warning of report.warnings) host.appendChild(textElement("p", warning, "fd-error"));
  if (report.prompts.length) {
    host.appendChild(textElement("h3", "Representation"));
    for (const section of report.prompts) host.appendChild(promptBlock(section));
  }
  if (report.quality) host.appendChild(qualityBlock(report.quality));
  if (report.memorisation) host.appendChild(memorisationBlock(report.memorisation));
  if (report.manifest.length) {
    const details = document.createElement("details");
    details.className = "fd-report-manifest";
    details.appendChild(textElement("summary", "Manifest (how to reproduce)"));
    details.appendChild(table(["key", "value"], report.manifest));
    host.appendChild(details);
  }
}
