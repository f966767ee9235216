/**
 * The kernel as real Jupyter sees it: installed with `fairdiff kernel install --prefix`, listed
 * by jupyter_client's kernelspec manager, passing jupyter_kernel_test's KernelTests, and
 * executing a notebook through nbclient.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./helpers/kernelHarness";
import { hasPythonModules, PYTHON, pythonEnv } from "./helpers/debianPython";

jest.setTimeout(180_000);

const FIXTURES = path.join(__dirname, "fixtures");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");
const available = hasPythonModules([
  "jupyter_client",
  "jupyter_kernel_test",
  "nbclient",
  "nbformat",
]);
const maybe = available ? test : test.skip;

let prefix: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  prefix = mkdtempSync(path.join(os.tmpdir(), "fairdiff-jupyter-"));
  const jupyterPath = path.join(prefix, "share", "jupyter");
  // A throwaway runtime/data dir keeps the user's real Jupyter out of it.
  env = pythonEnv({ JUPYTER_PATH: jupyterPath, JUPYTER_RUNTIME_DIR: path.join(prefix, "runtime") });
  for (const name of ["fairdiff", "fairdiff-test"]) {
    const out = spawnSync(
      process.execPath,
      [CLI, "kernel", "install", "--prefix", prefix, "--name", name],
      {
        encoding: "utf8",
      },
    );
    if (out.status !== 0) throw new Error(`install failed: ${out.stderr}`);
  }
});

/** nbformat stores multi-line strings as lists of lines. */
const text = (value: string | string[]): string => ([] as string[]).concat(value).join("");

function run(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { cwd, env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("close", (code) => resolve({ code, output }));
  });
}

maybe(
  "the installed kernelspec is listed by jupyter_client with logos and interrupt_mode",
  async () => {
    const listed = await run(["-m", "jupyter_client.kernelspecapp", "list", "--json"], prefix);
    expect(listed.code).toBe(0);
    const specs = JSON.parse(listed.output.slice(listed.output.indexOf("{"))).kernelspecs;
    const spec = specs.fairdiff;
    expect(spec.spec.language).toBe("typescript");
    expect(spec.spec.interrupt_mode).toBe("signal");
    expect(spec.spec.argv[1]).toBe(path.join(ROOT, "dist", "kernel", "main.js"));
    const logo = readFileSync(path.join(spec.resource_dir, "logo-64x64.png"));
    expect(logo.subarray(1, 4).toString()).toBe("PNG");
  },
);

maybe("jupyter_kernel_test: every KernelTests sample passes", async () => {
  const result = await run(["-m", "unittest", "-v", "conformance"], FIXTURES);
  const summary = result.output.split("\n").filter((l) => / \.\.\. |^Ran |^OK|FAILED/.test(l));
  if (result.code !== 0) throw new Error(result.output);
  expect(result.output).toMatch(/^OK/m);
  // Every sample is filled: nothing but the pager test (no `?` help in TypeScript) is skipped.
  const skipped = summary.filter((l) => / \.\.\. skipped/.test(l));
  expect(skipped.every((l) => l.includes("test_pager"))).toBe(true);
  expect(summary.filter((l) => / ok$/.test(l)).length).toBeGreaterThanOrEqual(11);
});

maybe(
  "nbclient executes a notebook with this kernel; outputs and widget state are saved",
  async () => {
    const out = path.join(prefix, "executed.ipynb");
    const result = await run(
      [
        path.join(FIXTURES, "run_notebook.py"),
        path.join(FIXTURES, "kernel-demo.ipynb"),
        out,
        "fairdiff",
      ],
      prefix,
    );
    if (result.code !== 0) throw new Error(result.output);
    const nb = JSON.parse(readFileSync(out, "utf8"));
    const cells = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    const [rng, htmlCell, slider, report, awaited, failing] = cells;
    expect(rng.outputs[0]).toMatchObject({ output_type: "stream", name: "stdout" });
    expect(text(rng.outputs[0].text)).toContain("uniform draw in [0, 1): true");
    expect(text(htmlCell.outputs[0].data["text/html"])).toBe("<b>fairdiff</b>");
    const view = slider.outputs[0].data["application/vnd.jupyter.widget-view+json"];
    expect(view.version_major).toBe(2);
    const widgetState = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"].state;
    expect(widgetState[view.model_id].state).toMatchObject({
      value: 2,
      max: 5,
      description: "strength",
    });
    expect(text(report.outputs[0].data["text/markdown"])).toBe("**audit summary**");
    expect(text(awaited.outputs[0].data["text/plain"])).toBe("42");
    expect(awaited.execution_count).toBe(5);
    expect(failing.outputs[0]).toMatchObject({
      output_type: "error",
      ename: "Error",
      evalue: "expected failure",
    });
  },
);
