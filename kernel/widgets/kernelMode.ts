/**
 * What the kernel computes with, as the training dashboard's header shows it: the tfjs backend
 * `useBackend()` chose in this kernel, and whether the notebooks' quick mode is on
 * (FAIRDIFF_QUICK=1, from `fairdiff start --quick`). The lab's status bar says what kernels are
 * started with; this says what this one actually has.
 */
import { backendInfo } from "../../src/backend/backendInfo";
import { quickMode } from "../../src/util/quickMode";

export interface KernelMode {
  /** The chosen backend's name, or "no backend yet" before `useBackend()`. */
  backend: string;
  mode: "quick" | "full";
}

export function kernelMode(): KernelMode {
  let backend: string;
  try {
    backend = backendInfo().name;
  } catch {
    backend = "no backend yet";
  }
  return { backend, mode: quickMode() ? "quick" : "full" };
}
