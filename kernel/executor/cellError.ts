/** Turns what went wrong in a cell into Jupyter's {ename, evalue, traceback}. */
import path from "node:path";
import { inspect } from "node:util";

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface CompileDiagnostic {
  line: number; // 1-based, in the cell
  column: number; // 1-based
  message: string;
}

/** Compile errors name the cell line and show it with a caret under the column. */
export function compileError(code: string, diagnostics: CompileDiagnostic[]): CellError {
  const lines = code.split("\n");
  const traceback: string[] = [];
  for (const d of diagnostics) {
    traceback.push(`cell line ${d.line}, column ${d.column}: ${d.message}`);
    const source = lines[d.line - 1];
    if (source !== undefined) {
      traceback.push(`    ${source}`, `    ${" ".repeat(Math.max(0, d.column - 1))}^`);
    }
  }
  const first = diagnostics[0];
  return {
    ename: "CompileError",
    evalue: `line ${first.line}, column ${first.column}: ${first.message}`,
    traceback,
  };
}

const kernelDir = path.dirname(__dirname);
/** Frames from Node internals, tslab or this kernel are noise to the user. */
function isInternalFrame(line: string): boolean {
  return (
    /node:internal|node:vm|node:async_hooks|tslab[\\/]dist|processTicksAndRejections/.test(line) ||
    line.includes(kernelDir)
  );
}

/** Runtime errors keep the user's stack frames and drop the kernel's own. */
export function runtimeError(thrown: unknown): CellError {
  if (thrown instanceof Error) {
    const ename = thrown.name || thrown.constructor?.name || "Error";
    const frames = (thrown.stack ?? "")
      .split("\n")
      .filter((l) => /^\s+at /.test(l) && !isInternalFrame(l));
    return { ename, evalue: thrown.message, traceback: [`${ename}: ${thrown.message}`, ...frames] };
  }
  const text = inspect(thrown);
  return { ename: "Thrown", evalue: text, traceback: [`Uncaught ${text}`] };
}

/** `stopped` lists the cell's pending work the interrupt stopped ("1 setInterval, …"). */
export function interruptedError(stopped = ""): CellError {
  return {
    ename: "KeyboardInterrupt",
    evalue: "interrupted",
    traceback: [
      "KeyboardInterrupt: the kernel was interrupted",
      ...(stopped ? [`Stopped this cell's pending work: ${stopped}.`] : []),
    ],
  };
}

/** The cell was stopped because the heap was nearly full (see memoryWatch.ts). */
export function heapNearlyFullError(
  usedBytes: number,
  limitBytes: number,
  stopped = "",
): CellError {
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const evalue =
    `the kernel's JavaScript heap is ${Math.round((100 * usedBytes) / limitBytes)}% full after ` +
    `garbage collection (${mb(usedBytes)} of ${mb(limitBytes)} MB): the cell was stopped before ` +
    "Node runs out of memory, which would end the kernel";
  return {
    ename: "MemoryError",
    evalue,
    traceback: [
      `MemoryError: ${evalue}`,
      ...(stopped ? [`Stopped this cell's pending work: ${stopped}.`] : []),
      "Free large values (e.g. `big = undefined`) or restart the kernel with a larger heap " +
        "(NODE_OPTIONS=--max-old-space-size=<MB>).",
    ],
  };
}

/** A callback the running cell started threw (or a promise it made was rejected unhandled). */
export function uncaughtInCellError(thrown: unknown, kind: "exception" | "rejection"): CellError {
  const error = runtimeError(thrown);
  const where =
    kind === "exception"
      ? "uncaught exception in a callback this cell started"
      : "unhandled promise rejection in this cell";
  return { ...error, traceback: [...error.traceback, `(${where}: the cell ends here)`] };
}
