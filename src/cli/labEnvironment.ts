/**
 * The environment FairDiff Lab's server runs with, and so every kernel it starts (kernels
 * inherit the server's environment): `--backend` becomes FAIRDIFF_BACKEND (each notebook's
 * `useBackend()`), `--quick` FAIRDIFF_QUICK=1 (the notebooks' quick mode). A flag left out keeps
 * what the caller's environment already says.
 */
import type { BackendRequest } from "../backend";
import { QUICK_MODE_VARIABLE } from "../util/quickMode";

export interface LabModeOptions {
  backend?: BackendRequest;
  quick?: boolean;
}

export function labServerEnvironment(
  options: LabModeOptions,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env = { ...base };
  if (options.backend !== undefined) env.FAIRDIFF_BACKEND = options.backend;
  if (options.quick === true) env[QUICK_MODE_VARIABLE] = "1";
  return env;
}

/** The `lab serve` flags that carry the same choices (what `fairdiff start` passes on). */
export function labModeFlags(options: LabModeOptions): string[] {
  return [
    ...(options.backend !== undefined ? ["--backend", options.backend] : []),
    ...(options.quick === true ? ["--quick"] : []),
  ];
}
