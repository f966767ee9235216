/**
 * Starts FairDiff Lab (extension/app, served by jupyterlab_server's LabServerApp from Debian's
 * jupyter_server) on a free local port, in a throw-away Jupyter environment whose only kernel is
 * fairdiff's (installed with `fairdiff kernel install --prefix`), with the environment
 * `fairdiff lab serve --backend … --quick` gives it. `stop()` ends the server and every kernel it
 * started, also when a test failed half way.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { peerPython } from "../../../bench/peers/python";
import { labServerEnvironment, type LabModeOptions } from "../../../src/cli/labEnvironment";
import { freePort } from "../../../bench/freePort";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const APP_BUNDLE = path.join(ROOT, "extension", "app", "build", "bundle.js");
const LAUNCHER = path.join(ROOT, "extension", "app", "fairdiff_lab.py");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");

export class LabServer {
  readonly token = randomBytes(16).toString("hex");
  readonly home: string;
  readonly notebooks: string;
  private process?: ChildProcess;
  private log = "";
  port = 0;

  private constructor() {
    this.home = mkdtempSync(path.join(os.tmpdir(), "fairdiff-lab-"));
    this.notebooks = path.join(this.home, "notebooks");
    mkdirSync(this.notebooks);
  }

  static async start(mode: LabModeOptions = {}): Promise<LabServer> {
    const server = new LabServer();
    try {
      await server.launch(mode);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(pathname: string): string {
    const sep = pathname.includes("?") ? "&" : "?";
    return `${this.baseUrl}${pathname}${sep}token=${this.token}`;
  }

  /** The server's output so far (for failure messages). */
  get output(): string {
    return this.log;
  }

  writeNotebook(name: string, cells: string[]): string {
    const notebook = {
      cells: cells.map((source) => ({
        cell_type: "code",
        execution_count: null,
        metadata: {},
        outputs: [],
        source,
      })),
      metadata: {
        kernelspec: {
          name: "fairdiff",
          display_name: "fairdiff (TypeScript)",
          language: "typescript",
        },
        language_info: { name: "typescript" },
      },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const file = path.join(this.notebooks, name);
    writeFileSync(file, JSON.stringify(notebook, null, 1));
    return file;
  }

  /** Writes a file into the notebook folder (e.g. a README to open in the lab). */
  writeFile(name: string, text: string): string {
    const file = path.join(this.notebooks, name);
    writeFileSync(file, text);
    return file;
  }

  /** GET/DELETE on the REST API, as JSON. */
  async api<T>(pathname: string, method = "GET"): Promise<T> {
    // No keep-alive: an idle pooled socket would hold jest open after the run.
    const response = await fetch(this.url(pathname), { method, headers: { connection: "close" } });
    if (!response.ok) throw new Error(`${method} ${pathname}: HTTP ${response.status}`);
    return (method === "DELETE" ? undefined : await response.json()) as T;
  }

  private async launch(mode: LabModeOptions): Promise<void> {
    if (!existsSync(APP_BUNDLE)) {
      throw new Error(`${APP_BUNDLE} is missing: build FairDiff Lab first (npm run build)`);
    }
    const prefix = path.join(this.home, "env");
    execFileSync(process.execPath, [CLI, "kernel", "install", "--prefix", prefix], {
      stdio: "pipe",
    });
    this.port = await freePort();
    // What `fairdiff lab serve --backend … --quick` runs the server (and so its kernels) with.
    const env: NodeJS.ProcessEnv = {
      ...labServerEnvironment(mode),
      JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
      JUPYTER_DATA_DIR: path.join(this.home, "data"),
      JUPYTER_CONFIG_DIR: path.join(this.home, "config"),
      JUPYTER_RUNTIME_DIR: path.join(this.home, "runtime"),
      JUPYTER_NO_CONFIG: "1",
      FAIRDIFF_LAB_STATE: path.join(this.home, "state"),
      PYTHONUNBUFFERED: "1",
    };
    this.process = spawn(
      peerPython(),
      [
        LAUNCHER,
        `--ServerApp.port=${this.port}`,
        "--ServerApp.ip=127.0.0.1",
        `--ServerApp.token=${this.token}`,
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        `--ServerApp.root_dir=${this.notebooks}`,
        "--KernelSpecManager.ensure_native_kernel=False",
        "--MappingKernelManager.default_kernel_name=fairdiff",
      ],
      { env, cwd: this.home, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-20_000);
    };
    this.process.stdout?.on("data", append);
    this.process.stderr?.on("data", append);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) {
        throw new Error(`FairDiff Lab server exited (${this.process.exitCode}):\n${this.log}`);
      }
      try {
        const response = await fetch(this.url("/api/status"), {
          headers: { connection: "close" },
        });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`FairDiff Lab server did not answer within 60 s:\n${this.log}`);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      // SIGTERM lets jupyter_server shut its kernels down; the group kill catches stragglers.
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, 8_000)));
      await Promise.race([exited, waited]);
      // A pending 8 s timer would keep the jest worker alive past its tests.
      clearTimeout(timer);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
