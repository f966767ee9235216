/**
 * Runs the shipped notebooks headlessly: the fairdiff kernelspec installed under a throwaway
 * prefix (as the kernel's conformance test does), nbclient from Debian's Python executing a
 * notebook in quick mode, and readers for what the notebooks leave in their outputs.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../kernel/helpers/kernelHarness";
import { hasPythonModules, PYTHON, pythonEnv } from "../../kernel/helpers/debianPython";

export const NOTEBOOKS = path.join(ROOT, "notebooks");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");
const RUNNER = path.join(__dirname, "..", "fixtures", "execute_notebook.py");

export const jupyterAvailable = (): boolean =>
  hasPythonModules(["jupyter_client", "nbclient", "nbformat"]);

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown> & {
    kernelspec?: { name: string; display_name: string; language: string };
  };
  nbformat: number;
  nbformat_minor: number;
}

/** nbformat stores multi-line strings as lists of lines. */
export const text = (value: string | string[] | undefined): string =>
  ([] as string[]).concat(value ?? []).join("");

export interface ExecutedNotebook {
  notebook: Notebook;
  /** Where the executed copy was written (for nbconvert). */
  file: string;
}

/** A Jupyter home of its own: kernelspec under `prefix`, runtime files there too. */
export class NotebookSandbox {
  readonly prefix: string;
  readonly env: NodeJS.ProcessEnv;
  private runs = 0;

  constructor(extraEnv: Record<string, string> = {}) {
    this.prefix = mkdtempSync(path.join(os.tmpdir(), "fairdiff-notebooks-"));
    this.env = pythonEnv({
      JUPYTER_PATH: path.join(this.prefix, "share", "jupyter"),
      JUPYTER_RUNTIME_DIR: path.join(this.prefix, "runtime"),
      JUPYTER_DATA_DIR: path.join(this.prefix, "data"),
      ...extraEnv,
    });
    const out = spawnSync(
      process.execPath,
      [CLI, "kernel", "install", "--prefix", this.prefix, "--name", "fairdiff"],
      { encoding: "utf8" },
    );
    if (out.status !== 0) throw new Error(`kernel install failed: ${out.stderr}`);
  }

  /**
   * Executes `notebooks/<name>` (or an absolute path) from `cwd` (default: the notebooks folder, as JupyterLab would);
   * returns the executed notebook and its file. A failing cell fails with the cell's error.
   */
  async execute(
    name: string,
    options: { cwd?: string; cellTimeoutS?: number; env?: Record<string, string> } = {},
  ): Promise<ExecutedNotebook> {
    this.runs += 1;
    const out = path.join(this.prefix, `${path.basename(name, ".ipynb")}-run${this.runs}.ipynb`);
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        PYTHON,
        [
          RUNNER,
          path.isAbsolute(name) ? name : path.join(NOTEBOOKS, name),
          out,
          "fairdiff",
          options.cwd ?? NOTEBOOKS,
          String(options.cellTimeoutS ?? 400),
        ],
        { cwd: this.prefix, env: { ...this.env, ...options.env } },
      );
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      child.on("close", (code) => resolve({ code, output }));
    });
    if (result.code !== 0) {
      throw new Error(`${name} failed (exit ${result.code}):\n${result.output.slice(-6000)}`);
    }
    return { notebook: JSON.parse(readFileSync(out, "utf8")) as Notebook, file: out };
  }

  /** Removes the sandbox (set FAIRDIFF_KEEP_NOTEBOOKS=1 to keep executed notebooks to look at). */
  dispose(): void {
    if (process.env.FAIRDIFF_KEEP_NOTEBOOKS === "1") {
      console.log(`executed notebooks kept in ${this.prefix}`);
      return;
    }
    rmSync(this.prefix, { recursive: true, force: true });
  }
}

export const codeCells = (nb: Notebook): NotebookCell[] =>
  nb.cells.filter((c) => c.cell_type === "code");

export function taggedCells(nb: Notebook, tag: string): NotebookCell[] {
  return nb.cells.filter((c) => c.metadata.tags?.includes(tag));
}

/** All stdout text of a cell. */
export function stdoutOf(cell: NotebookCell): string {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => text(o.text))
    .join("");
}

/** Every output's data of one mime type, in order. */
export function mimeOutputs(nb: Notebook, mime: string): unknown[] {
  return codeCells(nb).flatMap((c) =>
    (c.outputs ?? []).filter((o) => o.data && mime in o.data).map((o) => o.data![mime]),
  );
}

/** The JSON the notebook's cell tagged "result" displays (its headline numbers). */
export function resultOf<T = Record<string, unknown>>(nb: Notebook, tag = "result"): T {
  const cells = taggedCells(nb, tag);
  if (cells.length !== 1) throw new Error(`expected one cell tagged "${tag}", found ${cells.length}`);
  const json = (cells[0].outputs ?? []).find((o) => o.data && "application/json" in o.data);
  if (!json) {
    throw new Error(
      `the result cell shows no application/json output: ${JSON.stringify(cells[0].outputs)}`,
    );
  }
  return json.data!["application/json"] as T;
}

/** Errors any cell raised (a notebook that "runs green" has none). */
export function cellErrors(nb: Notebook): string[] {
  return codeCells(nb).flatMap((c) =>
    (c.outputs ?? [])
      .filter((o) => o.output_type === "error")
      .map((o) => `${c.id}: ${o.ename}: ${o.evalue}`),
  );
}
