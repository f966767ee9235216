/**
 * `fairdiff kernel install`: writes the Jupyter kernelspec (kernel.json + logos) that starts this
 * package's kernel. Only paths are known here — the library never imports the kernel.
 */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import { choiceOption } from "../optionValues";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";

export type InterruptMode = "signal" | "message";

export interface InstallOptions {
  user?: boolean;
  prefix?: string;
  name: string;
  displayName: string;
  interruptMode: InterruptMode;
  /** Written into the kernelspec as FAIRDIFF_BACKEND. */
  backend?: BackendRequest;
}

/** dist/src/cli/commands → package root. */
const packageRoot = path.resolve(__dirname, "..", "..", "..", "..");

/** Jupyter's per-user data directory, as jupyter_core computes it. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Jupyter");
  if (process.platform === "win32") {
    return path.join(env.APPDATA ?? path.join(os.homedir(), "AppData", "Roaming"), "jupyter");
  }
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), ".local", "share"), "jupyter");
}

export function kernelSpec(options: InstallOptions): Record<string, unknown> {
  return {
    argv: [
      process.execPath,
      path.join(packageRoot, "dist", "kernel", "main.js"),
      "{connection_file}",
    ],
    display_name: options.displayName,
    language: "typescript",
    interrupt_mode: options.interruptMode,
    // A pinned backend (kernel install --backend) reaches the notebooks' useBackend().
    env: options.backend ? { FAIRDIFF_BACKEND: options.backend } : {},
    metadata: { debugger: false },
  };
}

/** Writes the kernelspec; returns its directory. */
export function installKernelSpec(options: InstallOptions): string {
  if (options.user && options.prefix) throw new Error("use either --user or --prefix, not both");
  if (!/^[A-Za-z0-9._-]+$/.test(options.name)) {
    throw new Error(`kernel name ${JSON.stringify(options.name)}: letters, digits, . _ - only`);
  }
  const main = path.join(packageRoot, "dist", "kernel", "main.js");
  if (!existsSync(main))
    throw new Error(`${main} is missing: build fairdiff first (npm run build)`);
  const base = options.prefix
    ? path.join(path.resolve(options.prefix), "share", "jupyter")
    : userDataDir();
  const dir = path.join(base, "kernels", options.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(kernelSpec(options), null, 2) + "\n");
  for (const size of ["32x32", "64x64"]) {
    copyFileSync(
      path.join(packageRoot, "kernel", "assets", `logo-${size}.png`),
      path.join(dir, `logo-${size}.png`),
    );
  }
  return dir;
}

export function registerKernelCommand(program: Command): void {
  const kernel = program.command("kernel").description("the fairdiff Jupyter kernel (TypeScript)");
  kernel
    .command("install")
    .description("install the kernelspec for Jupyter (default: for this user)")
    .option("--user", "install in the user's Jupyter data directory (the default)")
    .option("--prefix <dir>", "install under <dir>/share/jupyter/kernels (e.g. a virtualenv)")
    .option("--name <name>", "kernelspec name", "fairdiff")
    .option("--display-name <name>", "name shown in Jupyter", "fairdiff (TypeScript)")
    .option("--interrupt-mode <mode>", "signal | message", "signal")
    .addOption(backendFlag())
    .action((opts: InstallOptions) => {
      choiceOption("--interrupt-mode", opts.interruptMode, ["signal", "message"] as const);
      const dir = installKernelSpec(opts);
      console.log(`installed kernelspec ${opts.name} in ${dir}`);
    });
}
