/**
 * Cell code must not end the kernel: `process.exit()` or `process.abort()` in a cell would kill it
 * with no reply, and every variable with it. They are refused with an error the cell sees; the
 * kernel keeps the real exit for its own shutdown.
 */
import { inspect } from "node:util";

// Captured when this module loads, before refuseProcessExit replaces it.
const realExit = process.exit.bind(process);

/** Ends the kernel process (shutdown, failed start): the one way the kernel itself exits. */
export function exitProcess(code: number): never {
  return realExit(code);
}

export class ProcessExitRefused extends Error {
  override readonly name = "ProcessExitRefused";
}

export function refuseProcessExit(): void {
  process.exit = ((code?: unknown) => {
    const call = `process.exit(${code === undefined ? "" : inspect(code)})`;
    throw new ProcessExitRefused(`${call} was refused: ${CONSEQUENCE}`);
  }) as typeof process.exit;
  process.abort = (() => {
    throw new ProcessExitRefused(`process.abort() was refused: ${CONSEQUENCE}`);
  }) as typeof process.abort;
}

const CONSEQUENCE =
  "it would end the kernel without a reply and lose every variable. " +
  "To stop or restart the kernel, use the notebook's Kernel menu (Restart / Shut Down).";
