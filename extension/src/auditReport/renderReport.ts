/**
 * Draws an audit report from its JSON alone (tables, and the HTML report's own SVG charts), so a
 * saved notebook shows it with no kernel. Every string from the report is set as text; the
 * charts come from src/audit/reportCharts.ts — one chart implementation for both views — and
 * enter the page only through safeSvgElement's allow-list.
 */
import {
  fidChart,
  kidChart,
  proportionChart,
  type ChartFigure,
} from "../../../src/audit/reportCharts";
import { fixed } from "../../../src/audit/reportText";
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
  type SizedFigure,
} from "./reportJson";
import { safeSvgElement } from "./safeSvg";

/** A chart's SVG as DOM, or a note saying why it is not shown; nothing for no chart. */
function chart(markup: string): Element[] {
  if (!markup) return [];
  try {
    return [safeSvgElement(markup)];
  } catch (error) {
    return [textElement("p", `chart not shown: ${(error as Error).message}`, "fd-error")];
  }
}

/** A figure as the charts take it: value, sizes, and its interval when it has both ends. */
function chartFigure(f: SizedFigure): ChartFigure {
  const interval =
    f.lower !== undefined && f.upper !== undefined
      ? { lower: f.lower, upper: f.upper, level: f.level }
      : undefined;
  return { value: f.estimate, nGenerated: f.nGenerated, nReal: f.nReal, interval };
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

function attributeBlock(row: AttributeRow, prompt: string): HTMLElement {
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
  figures.append(
    table(["group", "generated share [interval]", "target"], rows),
    ...chart(proportionChart(row, prompt)),
  );
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
  for (const row of [...section.attributes, ...section.intersections]) {
    block.appendChild(attributeBlock(row, section.prompt));
  }
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
        `Overall FID ${fixed(quality.overall.estimate, 2)}${kid}${sizes}${extractor}`,
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
  const overall = quality.overall && chartFigure(quality.overall);
  const overallKid = quality.overallKid && chartFigure(quality.overallKid);
  for (const a of quality.byAttribute) {
    const rows = a.groups.map((g, i) => [
      g,
      a.fid[i] ? fixed(a.fid[i].estimate, 2) : "–",
      ...(hasKid ? [formatKid(a.kid?.[i], scale)] : []),
    ]);
    const headers = ["group", "FID", ...(hasKid ? [`${scale.label} [interval]`] : [])];
    const groups = {
      attribute: a.attribute,
      groups: a.groups,
      perGroup: a.groups.map((_, i) => chartFigure(a.fid[i] ?? { estimate: NaN })),
      perGroupKid: a.kid?.map(chartFigure),
    };
    const attribute = document.createElement("div");
    attribute.className = "fd-report-attribute";
    // The ES-FID beside the attribute's name, on a line of its own when the name is long.
    const heading = textElement("h4", a.attribute);
    if (a.esFid !== undefined) {
      heading.append(" ", textElement("span", `ES-FID ${fixed(a.esFid, 2)}`, "fd-report-esfid"));
    }
    const figures = document.createElement("div");
    figures.className = "fd-report-figures";
    figures.append(
      table(headers, rows),
      ...chart(fidChart(groups, overall)),
      ...chart(hasKid ? kidChart(groups, scale, overallKid) : ""),
    );
    attribute.append(heading, figures);
    block.appendChild(attribute);
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
