/**
 * Runs TypeScript cells with tslab's executor (compile, type check, top-level await, completion,
 * inspect) and turns its console-reporting interface into values: the last expression's value,
 * or a structured error.
 */
import path from "node:path";
import type { ConverterSet, Executor } from "tslab/dist/executor";
import type { Converter } from "tslab/dist/converter";
import {
  compileError,
  interruptedError,
  runtimeError,
  type CellError,
  type CompileDiagnostic,
} from "./cellError";
import { createCellConverter } from "./cellConverter";
import { parseCell } from "./typescript";

const tslabDist = path.dirname(require.resolve("tslab/dist/executor"));
const { createExecutor } = require(
  path.join(tslabDist, "executor"),
) as typeof import("tslab/dist/executor");
const converterModule = require(
  path.join(tslabDist, "converter"),
) as typeof import("tslab/dist/converter");
const { printQuickInfo } = require(
  path.join(tslabDist, "inspect"),
) as typeof import("tslab/dist/inspect");

export type CellOutcome =
  | { status: "ok"; hasValue: boolean; value?: unknown; warnings: string[] }
  /** `bySigint`: a SIGINT broke the cell's synchronous code (the kernel's handler did not run). */
  | { status: "error"; error: CellError; bySigint: boolean };

export interface Completion {
  matches: string[];
  start: number;
  end: number;
}

/** What tslab reports through its console: diagnostics (format call) or a thrown value. */
interface Report {
  diagnostics: CompileDiagnostic[];
  thrown: unknown[];
  values: unknown[];
}

export class CellExecutor {
  private readonly executor: Executor;
  private report: Report = { diagnostics: [], thrown: [], values: [] };
  /** Why the kernel ended the running cell early (interrupt, a callback's throw, low memory). */
  private endedWith?: CellError;
  private active = false;

  constructor(
    rootDir: string,
    private readonly globals: Record<string, unknown>,
    globalsDeclaration: string,
  ) {
    const node = withGlobals(createCellConverter(), globalsDeclaration);
    const convs: ConverterSet = { node, browser: node, close: () => node.close() };
    this.executor = createExecutor(rootDir, convs, {
      log: (value: unknown) => this.report.values.push(value),
      error: (first: unknown, ...rest: unknown[]) => this.onError(first, rest),
    });
    this.installGlobals();
  }

  /** Whether a cell's outcome is still awaited (an `end` now decides it). */
  get running(): boolean {
    return this.active;
  }

  async run(code: string): Promise<CellOutcome> {
    this.report = { diagnostics: [], thrown: [], values: [] };
    this.endedWith = undefined;
    const report = this.report;
    const namesBefore = new Set(Object.keys(this.executor.locals));
    this.active = true;
    let ok: boolean;
    try {
      ok = await this.executor.execute(code);
    } finally {
      this.active = false;
    }
    if (!ok || report.thrown.length > 0) this.forgetNewNames(namesBefore);
    if (report.diagnostics.length > 0 && !ok) {
      return { status: "error", error: compileError(code, report.diagnostics), bySigint: false };
    }
    if (!ok || report.thrown.length > 0) {
      const thrown = report.thrown[0];
      if (this.endedWith) return { status: "error", error: this.endedWith, bySigint: false };
      const bySigint = isSigintError(thrown);
      return {
        status: "error",
        error: bySigint ? interruptedError() : runtimeError(thrown),
        bySigint,
      };
    }
    const warnings = report.diagnostics.map((d) => `line ${d.line}: ${d.message}`);
    if (report.values.length === 0) return { status: "ok", hasValue: false, warnings };
    return { status: "ok", hasValue: true, value: report.values[0], warnings };
  }

  /**
   * Ends the running cell now with `error`: its promise is no longer waited for (what it left
   * pending is stopped by the kernel through CellWork). Does nothing between cells.
   */
  end(error: CellError): void {
    if (!this.active) return;
    this.endedWith ??= error;
    this.executor.interrupt();
  }

  complete(code: string, cursor: number): Completion {
    const info = this.executor.complete(code, cursor);
    return { matches: info.candidates, start: info.start, end: info.end };
  }

  inspect(code: string, cursor: number): string | undefined {
    const info = this.executor.inspect(code, cursor);
    if (!info) return undefined;
    return printQuickInfo(info);
  }

  /** complete / incomplete (with indent) / invalid, from a parse of the code alone. */
  isComplete(code: string): { status: "complete" | "incomplete" | "invalid"; indent?: string } {
    const verdict = converterModule.isCompleteCode(code);
    if (!verdict.completed) return { status: "incomplete", indent: verdict.indent ?? "" };
    const file = parseCell(code);
    const errors = (file as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? [];
    return { status: errors.length > 0 ? "invalid" : "complete" };
  }

  /** Forgets all cell variables (the globals come back). */
  reset(): void {
    this.executor.reset();
    this.installGlobals();
  }

  close(): void {
    this.executor.close();
  }

  /**
   * A failed cell's names are not declared for later cells (tslab keeps none of its
   * declarations), yet their values stayed reachable: drop them, so that what an interrupted or
   * out-of-memory cell built up can be collected.
   */
  private forgetNewNames(before: Set<string>): void {
    const locals = this.executor.locals as Record<string, unknown>;
    for (const name of Object.keys(locals)) if (!before.has(name)) delete locals[name];
  }

  private installGlobals(): void {
    // tslab rewrites names declared before the cell to `exports.<name>`: globals live there.
    Object.assign(this.executor.locals, this.globals);
  }

  private onError(first: unknown, rest: unknown[]): void {
    if (first === "%s%d:%d - %s" && rest.length === 4) {
      const [, line, column, message] = rest as [string, number, number, string];
      this.report.diagnostics.push({ line, column, message });
    } else {
      this.report.thrown.push(first);
    }
  }
}

function isSigintError(thrown: unknown): boolean {
  return (
    thrown instanceof Error &&
    (thrown as NodeJS.ErrnoException).code === "ERR_SCRIPT_EXECUTION_INTERRUPTED"
  );
}

/** Prepends the cell globals' declarations to the previous cells' declarations tslab passes. */
function withGlobals(inner: Converter, declaration: string): Converter {
  return {
    convert: (prev, src) => inner.convert(declaration + prev, src),
    inspect: (prev, src, pos) => inner.inspect(declaration + prev, src, pos),
    complete: (prev, src, pos) => inner.complete(declaration + prev, src, pos),
    addModule: (name, content, meta) => inner.addModule(name, content, meta),
    close: () => inner.close(),
  };
}
