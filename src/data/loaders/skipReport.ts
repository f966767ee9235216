/**
 * `skipInvalid`: instead of failing on the first bad row, loaders can skip bad rows and say how
 * many were skipped and why. Without it, the first bad row is an error naming it.
 */
export interface SkippedRow {
  /** 1-based data row number in the metadata file (header excluded). */
  row: number;
  reason: string;
}

export interface SkipReport {
  skipped: number;
  /** Reason category → count, e.g. { "missing image": 3, "unknown dx": 1 }. */
  byReason: Record<string, number>;
  /** The first few skipped rows with their full reasons. */
  examples: SkippedRow[];
}

export class RowProblem extends Error {
  constructor(
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_EXAMPLES = 20;

/** Collects row problems; rethrows them (with the row number) unless skipping is allowed. */
export class SkipCollector {
  readonly report: SkipReport = { skipped: 0, byReason: {}, examples: [] };

  constructor(
    private readonly skipInvalid: boolean,
    private readonly source: string,
  ) {}

  /** Runs `parse` for a row; returns undefined when the row is skipped. */
  row<T>(rowNumber: number, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (error) {
      const message = `${this.source} row ${rowNumber}: ${(error as Error).message}`;
      if (!this.skipInvalid) throw new Error(message);
      const category = error instanceof RowProblem ? error.category : "invalid row";
      this.report.skipped++;
      this.report.byReason[category] = (this.report.byReason[category] ?? 0) + 1;
      if (this.report.examples.length < MAX_EXAMPLES) {
        this.report.examples.push({ row: rowNumber, reason: message });
      }
      return undefined;
    }
  }

  /** Records a row dropped by policy (e.g. a lateral view) — counted, never an error. */
  drop(rowNumber: number, category: string, reason: string): void {
    this.report.skipped++;
    this.report.byReason[category] = (this.report.byReason[category] ?? 0) + 1;
    if (this.report.examples.length < MAX_EXAMPLES) {
      this.report.examples.push({
        row: rowNumber,
        reason: `${this.source} row ${rowNumber}: ${reason}`,
      });
    }
  }
}

/** A row cut short (fewer fields than the header) is a bad row, never one of empty values. */
export function requireFullRow(row: readonly string[], header: readonly string[]): void {
  if (row.length < header.length) {
    throw new RowProblem(
      "row cut short",
      `has ${row.length} fields, the header has ${header.length}`,
    );
  }
}
