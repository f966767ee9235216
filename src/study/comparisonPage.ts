/**
 * The comparison as a self-contained HTML page (the table, then every row's full audit report,
 * inline CSS and SVG, nothing fetched) and as Markdown (the table, for a README or a paper's
 * supplement). Both render `comparisonTable`, so they never disagree.
 */
import { reportHtmlFragment } from "../audit/reportHtml";
import { standalonePage } from "../audit/standalonePage";
import { escapeHtml, escapeMarkdown } from "../audit/reportText";
import { comparisonTable } from "./comparisonTable";
import type { FixComparisonData } from "./fixComparison";

const h = escapeHtml;

const PAGE_CSS = `
.fd-compare { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; background: #ffffff; }
.fd-compare h1 { font-size: 1.6em; margin: 0.2em 0; }
.fd-compare h2 { font-size: 1.25em; margin-top: 1.4em; border-bottom: 1px solid #d0d7de; }
.fd-compare table.fd-table { border-collapse: collapse; margin: 0.6em 0; font-variant-numeric: tabular-nums; }
.fd-compare .fd-table th, .fd-compare .fd-table td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
.fd-compare .fd-table th { background: #f6f8fa; }
.fd-compare .fd-table td.fd-num { white-space: nowrap; }
.fd-compare .fd-muted { color: #57606a; }
.fd-compare details { margin: 1em 0; }
.fd-compare summary { cursor: pointer; font-weight: bold; }
`;

function tableHtml(data: FixComparisonData): string {
  const table = comparisonTable(data);
  const head = `<tr><th>fix</th>${table.columns.map((c) => `<th title="${h(c.description)}">${h(c.heading)}</th>`).join("")}</tr>`;
  const body = table.rows
    .map(
      (row) =>
        `<tr><th scope="row">${h(row.label)}</th>${row.cells.map((c) => `<td class="fd-num">${h(c)}</td>`).join("")}</tr>`,
    )
    .join("\n");
  const columnNotes = table.columns
    .map((c) => `<li><b>${h(c.heading)}</b>: ${h(c.description)}</li>`)
    .join("");
  return [
    `<table class="fd-table">\n${head}\n${body}\n</table>`,
    ...table.notes.map((n) => `<p class="fd-muted">${h(n)}</p>`),
    `<details><summary>What each column holds</summary><ul>${columnNotes}</ul></details>`,
  ].join("\n");
}

export function comparisonHtmlPage(data: FixComparisonData): string {
  const reports = data.rows
    .map(
      (row) =>
        `<details><summary>${h(row.label)}: full audit report</summary>\n${reportHtmlFragment(row.report)}\n</details>`,
    )
    .join("\n");
  return standalonePage({
    title: "fairdiff: the fixes compared",
    css: PAGE_CSS,
    className: "fd-compare",
    body: `<h1>The fixes compared</h1>
<p class="fd-muted">fairdiff ${data.settings.quick ? "quick " : ""}comparison · ${h(data.createdAt.replace("T", " ").slice(0, 19))} UTC · base model ${h(data.modelFile)} · classifier ${h(data.classifierFile)} · ${(data.elapsedMs / 1000).toFixed(0)} s in all</p>
<h2>Results</h2>
${tableHtml(data)}
<h2>Every row's audit</h2>
${reports}`,
  });
}

export function comparisonMarkdown(data: FixComparisonData): string {
  const table = comparisonTable(data);
  const cell = (text: string) => escapeMarkdown(text).replace(/\|/g, "\\|");
  const lines = [
    `| fix | ${table.columns.map((c) => cell(c.heading)).join(" | ")} |`,
    `|---|${table.columns.map(() => "---").join("|")}|`,
    ...table.rows.map((r) => `| ${cell(r.label)} | ${r.cells.map(cell).join(" | ")} |`),
    "",
    ...table.notes,
    "",
  ];
  return lines.join("\n");
}

/** A few lines for a terminal: one per row, the targeted attribute's bias and FID. */
export function comparisonSummary(data: FixComparisonData): string {
  const table = comparisonTable(data);
  const fid = table.columns.findIndex((c) => c.heading === "FID");
  const time = table.columns.findIndex((c) => c.heading === "fine-tune time");
  const width = Math.max(...table.rows.map((r) => r.label.length));
  return table.rows
    .map(
      (r) =>
        `${r.label.padEnd(width)}  ${table.columns[0].heading} ${r.cells[0]}  FID ${r.cells[fid]}  ${r.cells[time]}`,
    )
    .join("\n");
}
