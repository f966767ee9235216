/**
 * This session's executed cells for history_request (tail, range, search). Kept in memory:
 * session number 1 is "this kernel process", as a fresh IPython history database would number it.
 */
export const SESSION = 1;

export interface HistoryEntry {
  line: number;
  input: string;
  output?: string;
}

export type HistoryItem = [number, number, string | [string, string | null]];

export interface HistoryQuery {
  hist_access_type?: string;
  output?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

export class History {
  private readonly entries: HistoryEntry[] = [];

  add(entry: HistoryEntry): void {
    this.entries.push(entry);
  }

  query(q: HistoryQuery): HistoryItem[] {
    const pick = (): HistoryEntry[] => {
      switch (q.hist_access_type) {
        case "tail":
          return q.n === undefined ? [...this.entries] : this.entries.slice(-Math.max(0, q.n));
        case "range": {
          // Session 0 or -0 is the current one; negative sessions count back (none kept here).
          if (q.session !== undefined && q.session !== SESSION && q.session !== 0) return [];
          const start = q.start ?? 0;
          const stop = q.stop === undefined || q.stop === null ? Infinity : q.stop;
          return this.entries.filter((e) => e.line >= start && e.line < stop);
        }
        case "search":
          return this.search(q.pattern ?? "*", q.unique === true, q.n);
        default:
          return [];
      }
    };
    return pick().map((e) => [SESSION, e.line, q.output ? [e.input, e.output ?? null] : e.input]);
  }

  /** Glob search (`*`, `?`) over whole inputs, newest last; `unique` keeps each input once. */
  private search(pattern: string, unique: boolean, n?: number): HistoryEntry[] {
    const regex = globToRegExp(pattern);
    let found = this.entries.filter((e) => regex.test(e.input));
    if (unique) {
      const seen = new Set<string>();
      found = found
        .reverse()
        .filter((e) => !seen.has(e.input) && seen.add(e.input))
        .reverse();
    }
    return n === undefined || n === null ? found : found.slice(-Math.max(0, n));
  }
}

export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const ch of glob) {
    if (ch === "*") source += "[\\s\\S]*";
    else if (ch === "?") source += "[\\s\\S]";
    else source += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
