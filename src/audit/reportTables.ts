/**
 * Tables as the report's renderers write them: an HTML table (cells already escaped; numeric
 * columns right-aligned by the report's CSS) and a Markdown pipe table. Every section of the
 * report builds its tables here.
 */

/** An HTML table; `numeric[i]` marks column i as numbers. Cells must be escaped already. */
export function htmlTable(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const head = headers.map((c) => `<th>${c}</th>`).join("");
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => (numeric[i] ? `<td class="fd-num">${c}</td>` : `<td>${c}</td>`)).join("")}</tr>`,
    )
    .join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function markdownRow(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** A Markdown pipe table, one line per element. Cells must be escaped already. */
export function markdownTableLines(headers: string[], rows: string[][]): string[] {
  return [markdownRow(headers), markdownRow(headers.map(() => "---")), ...rows.map(markdownRow)];
}
