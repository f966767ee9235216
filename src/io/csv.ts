/**
 * A small RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. Column
 * access goes through `column()`, which names the missing column and the ones present.
 */

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Index of `name` in the header; throws naming the column when it is absent. */
  column(name: string): number;
  has(name: string): boolean;
}

export interface CsvOptions {
  /**
   * A row with fewer fields than the header: "error" (default) names its line; "keep" keeps it
   * as it is (shorter than the header) for a caller that skips bad rows and says why.
   */
  shortRows?: "error" | "keep";
}

export function parseCsv(text: string, source = "CSV", options: CsvOptions = {}): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  // The line each record starts on, for errors (a quoted field may span lines).
  const startLines: number[] = [];
  let row: string[] = [];
  let rowLine = 1;
  let field = "";
  let quoted = false;
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === "\n") line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      i++;
    } else if (ch === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      records.push(row);
      startLines.push(rowLine);
      row = [];
      field = "";
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new Error(`${source}: unterminated quoted field (opened before line ${line})`);
  if (field !== "" || row.length > 0) {
    row.push(field);
    records.push(row);
    startLines.push(rowLine);
  }
  // Blank lines (a trailing newline, stray empty lines) are not rows.
  const kept = records.flatMap((r, k) =>
    r.length === 1 && r[0] === "" ? [] : [{ fields: r, line: startLines[k] }],
  );
  if (kept.length === 0) throw new Error(`${source}: empty file, no header row`);
  const header = kept[0].fields.map((h) => h.trim());
  // A short row is a damaged row: padding it would read a missing finding as "absent".
  for (const { fields, line: at } of kept.slice(1)) {
    if (fields.length < header.length && options.shortRows !== "keep") {
      throw new Error(
        `${source}: line ${at} has ${fields.length} fields, the header has ${header.length} (a row cut short; an empty value still needs its comma)`,
      );
    }
  }
  const rows = kept.slice(1).map((r) => r.fields);
  const index = new Map(header.map((h, k) => [h, k]));
  return {
    header,
    rows,
    has: (name) => index.has(name),
    column(name) {
      const k = index.get(name);
      if (k === undefined) {
        throw new Error(`${source}: unknown column "${name}" (columns: ${header.join(", ")})`);
      }
      return k;
    },
  };
}
