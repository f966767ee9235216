/**
 * Debian's Python with the Jupyter packages (jupyter_client, jupyter_kernel_test, nbclient).
 * `python3` on PATH may be another Python without them, so the absolute path is used. Without
 * them a suite is skipped, unless FAIRDIFF_REQUIRE_ALL=1 (CI), where it must run.
 */
import { spawnSync } from "node:child_process";

export const PYTHON = "/usr/bin/python3";

export function hasPythonModules(modules: string[]): boolean {
  const probe = spawnSync(PYTHON, ["-c", modules.map((m) => `import ${m}`).join("; ")], {
    encoding: "utf8",
  });
  if (probe.status === 0) return true;
  if (process.env.FAIRDIFF_REQUIRE_ALL === "1") {
    throw new Error(`${PYTHON} lacks ${modules.join(", ")}: ${probe.stderr ?? probe.error}`);
  }
  console.warn(`skipped: ${PYTHON} lacks ${modules.join(", ")} (dependency missing)`);
  return false;
}

/** Quiet, predictable Python for child processes. */
export const pythonEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
  ...process.env,
  PYDEVD_DISABLE_FILE_VALIDATION: "1",
  PYTHONWARNINGS: "ignore",
  ...extra,
});
