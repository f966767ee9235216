/** What `useBackend` chose and why the other candidates were passed over. */

export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
export type BackendRequest = "auto" | BackendName;

export interface BackendCandidate {
  name: BackendName;
  /** Where the backend comes from, e.g. "@tensorflow/tfjs-node-gpu (CUDA)". */
  source: string;
  chosen: boolean;
  /** Why it was chosen or why it was not. */
  reason: string;
}

export interface BackendInfo {
  requested: BackendRequest;
  /** The tfjs backend now running (tfjs's own name: "tensorflow", "webgpu", "wasm", "cpu"). */
  name: BackendName;
  source: string;
  candidates: BackendCandidate[];
  /** Kernels fairdiff registered on top of the backend (wasm: training kernels; webgpu: fixes). */
  addedKernels: string[];
  /** A GPU adapter description, when WebGPU runs. */
  adapter?: string;
}

let current: BackendInfo | undefined;

export function recordBackendInfo(info: BackendInfo): void {
  current = info;
}

/** The backend chosen by the last `useBackend` call; throws if none was chosen yet. */
export function backendInfo(): BackendInfo {
  if (!current) throw new Error("no backend chosen yet: call `await useBackend()` first");
  return current;
}

export function describeBackend(info: BackendInfo): string {
  const lines = [`backend: ${info.name} (${info.source})`];
  for (const c of info.candidates) {
    lines.push(`  ${c.chosen ? "*" : "-"} ${c.name.padEnd(10)} ${c.reason}`);
  }
  if (info.addedKernels.length > 0)
    lines.push(`  fairdiff kernels: ${info.addedKernels.join(", ")}`);
  return lines.join("\n");
}
