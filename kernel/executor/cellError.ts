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

export function interruptedError(): CellError {
  return {
    ename: "KeyboardInterrupt",
    evalue: "interrupted",
    traceback: ["KeyboardInterrupt: the kernel was interrupted"],
  };
}
