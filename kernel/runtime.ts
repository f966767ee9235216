/**
 * The running kernel's services as seen from cell code (display, comms, stdin, abort signal).
 * One kernel per process, so a module-level slot is enough; set once at start-up.
 */
import type { CommManager } from "./comm/commManager";
import type { Iopub } from "./output/iopub";

export interface KernelRuntime {
  iopub: Iopub;
  comms: CommManager;
  /** The AbortSignal of the cell now running (or last run); aborted on interrupt. */
  abortSignal(): AbortSignal;
  /** Asks the frontend for a line of input; rejects when the request disallows stdin. */
  input(prompt: string, password: boolean): Promise<string>;
}

let current: KernelRuntime | undefined;

export function setRuntime(runtime: KernelRuntime): void {
  current = runtime;
}

export function runtime(): KernelRuntime {
  if (!current) throw new Error("not running inside the fairdiff kernel");
  return current;
}
