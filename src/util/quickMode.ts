/**
 * Quick mode: small samples and few steps, so a notebook runs in minutes on a laptop (what the
 * notebook tests run). One switch, the environment variable FAIRDIFF_QUICK=1, which every kernel
 * FairDiff Lab starts inherits (`fairdiff start --quick`, `fairdiff lab serve --quick`); the
 * notebooks and the training dashboard's header read it.
 */
export const QUICK_MODE_VARIABLE = "FAIRDIFF_QUICK";

export function quickMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[QUICK_MODE_VARIABLE] === "1";
}
