/**
 * `fairdiff start --quick --backend wasm` and `fairdiff lab serve --quick` reach the kernels:
 * the Jupyter server FairDiff Lab spawns (and so every kernel it starts, which inherits its
 * environment) runs with FAIRDIFF_QUICK=1 and FAIRDIFF_BACKEND=wasm. The server is replaced by a
 * recorder through FAIRDIFF_PYTHON, the launcher's documented seam, so the real CLI runs end to
 * end without a browser.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { labModeFlags, labServerEnvironment } from "../../src/cli/labEnvironment";
import { quickMode } from "../../src/util/quickMode";
import { testWhen } from "../helpers/requirements";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");
const APP_BUNDLE = path.join(ROOT, "extension", "app", "build", "bundle.js");

let dir: string;
let record: string;
let python: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "lab-mode-"));
  record = path.join(dir, "server.txt");
  python = path.join(dir, "python3");
  // Answers the module probe (`python -c "import …"`) and records how the server was started.
  writeFileSync(
    python,
    `#!/bin/sh
if [ "$1" = "-c" ]; then exit 0; fi
{ echo "FAIRDIFF_QUICK=\${FAIRDIFF_QUICK-unset}"; echo "FAIRDIFF_BACKEND=\${FAIRDIFF_BACKEND-unset}"; printf '%s\\n' "$@"; } > "${record}"
`,
  );
  chmodSync(python, 0o755);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with the recorder as Python; returns what the "server" saw. */
function serverStartedBy(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  rmSync(record, { force: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FAIRDIFF_PYTHON: python,
    JUPYTER_DATA_DIR: path.join(dir, "data"),
  };
  delete env.FAIRDIFF_QUICK;
  delete env.FAIRDIFF_BACKEND;
  Object.assign(env, extraEnv);
  const run = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env,
    timeout: 60_000,
  });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  const lines = readFileSync(record, "utf8").trim().split("\n");
  return { stdout: run.stdout, quick: lines[0], backend: lines[1], args: lines.slice(2) };
}

describe("the lab's environment from the flags", () => {
  test("--backend and --quick set FAIRDIFF_BACKEND and FAIRDIFF_QUICK; left out, the caller's stay", () => {
    const env = labServerEnvironment({ backend: "wasm", quick: true }, { PATH: "/bin" });
    expect(env).toEqual({ PATH: "/bin", FAIRDIFF_BACKEND: "wasm", FAIRDIFF_QUICK: "1" });
    expect(quickMode(env)).toBe(true);
    const inherited = { FAIRDIFF_BACKEND: "cpu", FAIRDIFF_QUICK: "1" };
    expect(labServerEnvironment({}, inherited)).toEqual(inherited);
    expect(quickMode(labServerEnvironment({}, {}))).toBe(false);
    expect(labModeFlags({ backend: "wasm", quick: true })).toEqual([
      "--backend",
      "wasm",
      "--quick",
    ]);
    expect(labModeFlags({})).toEqual([]);
  });
});

const whenBuilt = testWhen(
  existsSync(CLI) && existsSync(APP_BUNDLE),
  "the built CLI and FairDiff Lab (npm run build)",
);

describe("the CLI hands the flags to the server it starts", () => {
  whenBuilt(
    "fairdiff start --quick --backend wasm: the server gets FAIRDIFF_QUICK=1 and wasm",
    () => {
      const seen = serverStartedBy(["start", "--quick", "--backend", "wasm", "--port", "8999"]);
      expect(seen.quick).toBe("FAIRDIFF_QUICK=1");
      expect(seen.backend).toBe("FAIRDIFF_BACKEND=wasm");
      expect(seen.args[0]).toBe(path.join(ROOT, "extension", "app", "fairdiff_lab.py"));
      expect(seen.args).toContain("--ServerApp.port=8999");
      expect(seen.args).toContain(`--ServerApp.root_dir=${path.join(ROOT, "notebooks")}`);
      expect(seen.stdout).toMatch(/Kernels: backend wasm, quick mode/);
    },
  );

  whenBuilt("fairdiff start without the flags: full settings, the backend left to auto", () => {
    const seen = serverStartedBy(["start", "--port", "8999"]);
    expect(seen.quick).toBe("FAIRDIFF_QUICK=unset");
    expect(seen.backend).toBe("FAIRDIFF_BACKEND=unset");
    expect(seen.stdout).toMatch(/Kernels: backend auto, full settings/);
  });

  whenBuilt(
    "fairdiff lab serve --quick: quick mode, and an exported FAIRDIFF_BACKEND is kept",
    () => {
      const seen = serverStartedBy(["lab", "serve", "--quick", "--no-browser", "--dir", dir], {
        FAIRDIFF_BACKEND: "cpu",
      });
      expect(seen.quick).toBe("FAIRDIFF_QUICK=1");
      expect(seen.backend).toBe("FAIRDIFF_BACKEND=cpu");
      expect(seen.args).toContain("--ServerApp.open_browser=False");
    },
  );

  whenBuilt(
    "a bad --backend for the lab fails before any server starts, naming flag and value",
    () => {
      rmSync(record, { force: true });
      const run = spawnSync(process.execPath, [CLI, "lab", "serve", "--backend", "gpu"], {
        encoding: "utf8",
        env: { ...process.env, FAIRDIFF_PYTHON: python },
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/--backend: "gpu" is not a backend; expected one of auto/);
      expect(existsSync(record)).toBe(false);
    },
  );
});
