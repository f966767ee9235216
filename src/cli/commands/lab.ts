/**
 * `fairdiff lab install`: installs the prebuilt JupyterLab extension (extension/labextension,
 * built by `npm run build`) into a Jupyter data directory's labextensions folder, plus the
 * kernelspec. `fairdiff lab serve`: runs FairDiff Lab, the JupyterLab front end bundled with the
 * extension (extension/app), on jupyterlab_server — for machines without JupyterLab's Python
 * package.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { installKernelSpec, userDataDir } from "./kernel";
import { backendFlag } from "../backendOption";
import { labServerEnvironment, type LabModeOptions } from "../labEnvironment";
import { integerOption, PORT_RANGE } from "../optionValues";

/** dist/src/cli/commands → package root. */
const packageRoot = path.resolve(__dirname, "..", "..", "..", "..");

export const LABEXTENSION_NAME = "fairdiff-jupyterlab";

export interface LabInstallOptions {
  user?: boolean;
  prefix?: string;
  /** Where the prebuilt labextension is (default: this package's extension/labextension). */
  source?: string;
  kernel?: boolean;
}

export function labextensionSource(): string {
  return path.join(packageRoot, "extension", "labextension");
}

/** Copies the labextension (replacing an older copy whole); returns where it went. */
export function installLabextension(options: LabInstallOptions): string {
  if (options.user && options.prefix) throw new Error("use either --user or --prefix, not both");
  const source = options.source ?? labextensionSource();
  const manifest = path.join(source, "package.json");
  if (!existsSync(manifest)) {
    throw new Error(`${manifest} is missing: build the extension first (npm run build)`);
  }
  const data = JSON.parse(readFileSync(manifest, "utf8")) as {
    name?: string;
    jupyterlab?: { _build?: { load?: string } };
  };
  const load = data.jupyterlab?._build?.load;
  if (data.name !== LABEXTENSION_NAME || !load || !existsSync(path.join(source, load))) {
    throw new Error(
      `${source} is not a built ${LABEXTENSION_NAME} labextension (no jupyterlab._build)`,
    );
  }
  const base = options.prefix
    ? path.join(path.resolve(options.prefix), "share", "jupyter")
    : userDataDir();
  const target = path.join(base, "labextensions", LABEXTENSION_NAME);
  mkdirSync(path.dirname(target), { recursive: true });
  // Copy beside the target, then swap: JupyterLab never sees a half-copied extension.
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(source, staging, {
    recursive: true,
    filter: (file) => !path.basename(file).startsWith(".fairdiff-build"),
  });
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return target;
}

/** `lab serve`'s flags; `backend` and `quick` go to every kernel's environment. */
interface LabServeOptions extends LabModeOptions {
  port: string;
  dir: string;
  browser: boolean;
}

export function registerLabCommand(program: Command): void {
  const lab = program.command("lab").description("the JupyterLab extension and FairDiff Lab");
  lab
    .command("install")
    .description("install the JupyterLab extension and the kernelspec (default: for this user)")
    .option("--user", "install in the user's Jupyter data directory (the default)")
    .option("--prefix <dir>", "install under <dir>/share/jupyter (e.g. a virtualenv)")
    .option("--no-kernel", "do not install the kernelspec")
    .action((opts: LabInstallOptions) => {
      const dir = installLabextension(opts);
      console.log(`installed labextension ${LABEXTENSION_NAME} in ${dir}`);
      if (opts.kernel !== false) {
        const kernelDir = installKernelSpec({
          user: opts.user,
          prefix: opts.prefix,
          name: "fairdiff",
          displayName: "fairdiff (TypeScript)",
          interruptMode: "signal",
        });
        console.log(`installed kernelspec fairdiff in ${kernelDir}`);
      }
    });
  lab
    .command("serve")
    .description("run FairDiff Lab (JupyterLab with fairdiff built in) on jupyterlab_server")
    .option("--port <n>", "port", "8888")
    .option("--dir <folder>", "notebook folder", ".")
    .option("--no-browser", "do not open a web browser")
    .option(
      "--quick",
      "the notebooks' quick mode (FAIRDIFF_QUICK=1 in every kernel): small samples, few steps",
    )
    .addOption(backendFlag())
    .action((opts: LabServeOptions) => {
      const port = integerOption("--port", opts.port, PORT_RANGE);
      const launcher = path.join(packageRoot, "extension", "app", "fairdiff_lab.py");
      if (!existsSync(path.join(packageRoot, "extension", "app", "build", "bundle.js"))) {
        throw new Error("FairDiff Lab is not built: run npm run build");
      }
      const python = process.env.FAIRDIFF_PYTHON ?? "/usr/bin/python3";
      const args = [
        launcher,
        `--ServerApp.port=${port}`,
        `--ServerApp.root_dir=${path.resolve(opts.dir)}`,
      ];
      if (opts.browser === false) args.push("--ServerApp.open_browser=False");
      // jupyter_server refuses to start as root (containers, CI) unless told it may.
      if (process.getuid?.() === 0) args.push("--ServerApp.allow_root=True");
      // Kernels inherit the server's environment: --backend and --quick reach every notebook.
      const env = labServerEnvironment(opts);
      const child = spawn(python, args, { stdio: "inherit", env });
      // Stopping this process (kill, a supervisor) stops the server too instead of orphaning it;
      // SIGTERM is jupyter_server's clean shutdown without the Ctrl-C confirmation prompt.
      const stop = () => child.kill("SIGTERM");
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      child.on("exit", (code) => process.exit(code ?? 1));
    });
}
