/**
 * Chooses the fastest tfjs backend this machine can run and says why. Auto order:
 * tfjs-node-gpu (CUDA) → tfjs-node → WebGPU (Dawn, only where webgpuRule says it beats wasm) →
 * wasm (+ fairdiff's training kernels) → cpu.
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's CommonJS build registers no gradients; the @tensorflow/tfjs bundle does.
import "@tensorflow/tfjs";
import {
  recordBackendInfo,
  type BackendCandidate,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
} from "./backendInfo";
import { loadOptionalModule } from "./optionalModule";
import { inspectWebgpuAdapter, installWebgpu } from "./webgpuAdapter";
import { webgpuBeatsWasm } from "./webgpuRule";
import { registerWebgpuKernels } from "./webgpuKernels/registerWebgpuKernels";
import { installSharingClone } from "./sharingClone";
import {
  COMPOSED_ON_EVERY_BACKEND,
  registerFusedKernels,
} from "./fusedKernels/registerFusedKernels";

import { BACKEND_NAMES, backendRequestFromEnvironment } from "./backendRequest";
import { registerWasmTrainingKernels } from "./wasmKernels/registerWasmTrainingKernels";
import { registerNativeKernels } from "./nativeKernels/registerNativeKernels";
import { prepareWasmThreads, unrefWasmWorkers, wasmThreadsFromEnvironment } from "./wasmThreads";

interface Attempt {
  ok: boolean;
  reason: string;
  source: string;
  adapter?: string;
  addedKernels?: string[];
}

type Candidate = { name: BackendName; source: string; attempt: () => Promise<Attempt> };

async function activate(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

async function tryTfjsNode(pkg: string, wantGpu: boolean): Promise<Attempt> {
  const source = pkg;
  const loaded = loadOptionalModule(pkg);
  if (!loaded.module) return { ok: false, reason: loaded.reason ?? "not loaded", source };
  if (!(await activate("tensorflow"))) {
    return { ok: false, reason: `${pkg} loaded but its backend did not start`, source };
  }
  const usingGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  if (wantGpu && !usingGpu) {
    return { ok: false, reason: `${pkg} loaded but found no working CUDA device`, source };
  }
  return { ok: true, reason: wantGpu ? "CUDA device in use" : "native TensorFlow CPU", source };
}

/**
 * FAIRDIFF_WEBGPU_FLAGS="NAME=value,…" sets tfjs-webgpu flags before the backend starts (e.g.
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE, WEBGPU_CPU_FORWARD). Measured on an H100 (bench/gpu.ts):
 * neither changed the ~1 ms per kernel dispatch that bounds Dawn under Node, so defaults stay.
 */
function applyWebgpuFlags(): void {
  for (const entry of (process.env.FAIRDIFF_WEBGPU_FLAGS ?? "").split(",").filter(Boolean)) {
    const [name, value] = entry.split("=");
    if (!name?.startsWith("WEBGPU_") || value === undefined) {
      throw new Error(`FAIRDIFF_WEBGPU_FLAGS: "${entry}" is not NAME=value with a WEBGPU_ flag`);
    }
    tf.env().set(name, value === "true" ? true : value === "false" ? false : Number(value));
  }
}

async function tryWebgpu(request: BackendRequest): Promise<Attempt> {
  const source = "@tensorflow/tfjs-backend-webgpu + webgpu (Dawn)";
  if (request === "auto") {
    // Asked in a child process: auto must not pay for (or print) Dawn's start in this one.
    const inspected = await inspectWebgpuAdapter();
    if (!inspected.available || !inspected.adapter) {
      return { ok: false, reason: inspected.reason, source };
    }
    const rule = webgpuBeatsWasm(inspected.adapter);
    if (!rule.faster)
      return { ok: false, reason: rule.why, source, adapter: inspected.adapter.name };
  }
  const probe = await installWebgpu();
  if (!probe.available || !probe.adapter) return { ok: false, reason: probe.reason, source };
  require("@tensorflow/tfjs-backend-webgpu");
  applyWebgpuFlags();
  if (!(await activate("webgpu"))) {
    return { ok: false, reason: "adapter found but the tfjs WebGPU backend did not start", source };
  }
  const kind = probe.adapter.software ? "software adapter (CPU speed)" : "GPU adapter";
  return {
    ok: true,
    reason: `${kind}: ${probe.adapter.name}`,
    source,
    adapter: probe.adapter.name,
    // Our WGSL forms replace some composed ones: each name once.
    addedKernels: [...new Set([...registerWebgpuKernels(), ...COMPOSED_ON_EVERY_BACKEND])],
  };
}

interface WasmModule {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** Starts wasm, threaded when FAIRDIFF_WASM_THREADS asks (wasmThreads.ts); says how it went. */
async function startWasm(wasm: WasmModule): Promise<{ ok: boolean; threads: string }> {
  const threads = wasmThreadsFromEnvironment();
  const alreadyStarted = tf.findBackend("wasm") !== null;
  if (threads === 1 || alreadyStarted) {
    const ok = await activate("wasm");
    const count = ok ? wasm.getThreadsCount() : 1;
    return { ok, threads: count > 1 ? `, ${count} XNNPACK threads` : "" };
  }
  const bridge = prepareWasmThreads(threads, (n) => wasm.setThreadsCount(n));
  let ok: boolean;
  try {
    ok = await activate("wasm");
  } finally {
    bridge.restore();
  }
  if (ok) {
    unrefWasmWorkers(tf.backend());
    return { ok, threads: `, ${wasm.getThreadsCount()} XNNPACK threads` };
  }
  // The threaded build did not start: the single-threaded one, saying so.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  wasm.setThreadsCount(1);
  return {
    ok: await activate("wasm"),
    threads: `; FAIRDIFF_WASM_THREADS=${threads} asked for threads, but the threaded build did not start`,
  };
}

async function tryWasm(): Promise<Attempt> {
  const source = "@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD)";
  const wasm = require("@tensorflow/tfjs-backend-wasm") as WasmModule;
  const started = await startWasm(wasm);
  if (!started.ok) return { ok: false, reason: "wasm backend did not start", source };
  const addedKernels = [...registerWasmTrainingKernels(), ...registerFusedKernels()];
  // Over the training kernels: each native kernel keeps the one it replaces as its fallback.
  const native = registerNativeKernels();
  addedKernels.push(...native.kernels.map((name) => `${name} (native)`));
  return {
    ok: true,
    reason: `portable CPU backend with fairdiff's training kernels${started.threads}; ${native.status.reason}`,
    source,
    addedKernels,
  };
}

async function tryCpu(): Promise<Attempt> {
  const source = "@tensorflow/tfjs-backend-cpu (plain JavaScript)";
  require("@tensorflow/tfjs-backend-cpu");
  if (!(await activate("cpu"))) return { ok: false, reason: "cpu backend did not start", source };
  // Its first-use banner recommends tfjs-node; backendInfo() already says why that was not used.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return {
    ok: true,
    reason: "always available, slowest",
    source,
    addedKernels: registerFusedKernels(),
  };
}

function candidates(request: BackendRequest): Candidate[] {
  return [
    {
      name: "tensorflow",
      source: "@tensorflow/tfjs-node-gpu",
      attempt: () => tryTfjsNode("@tensorflow/tfjs-node-gpu", true),
    },
    {
      name: "tensorflow",
      source: "@tensorflow/tfjs-node",
      attempt: () => tryTfjsNode("@tensorflow/tfjs-node", false),
    },
    { name: "webgpu", source: "webgpu", attempt: () => tryWebgpu(request) },
    { name: "wasm", source: "wasm", attempt: tryWasm },
    { name: "cpu", source: "cpu", attempt: tryCpu },
  ];
}

/**
 * Selects and initialises a backend. `"auto"` takes the first that works and is not slower than
 * wasm (see webgpuRule.ts); a named backend is required to work (the error says why not). With
 * no argument, FAIRDIFF_BACKEND decides (default auto). Returns (and records) the `BackendInfo`.
 */
export async function useBackend(
  request: BackendRequest = backendRequestFromEnvironment(),
): Promise<BackendInfo> {
  if (request !== "auto" && !BACKEND_NAMES.includes(request as BackendName)) {
    throw new Error(
      `unknown backend "${String(request)}": expected "auto" or one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
  installSharingClone();
  const tried: BackendCandidate[] = [];
  for (const candidate of candidates(request)) {
    if (request !== "auto" && candidate.name !== request) continue;
    const attempt = await candidate.attempt();
    tried.push({
      name: candidate.name,
      source: attempt.source,
      chosen: attempt.ok,
      reason: attempt.reason,
    });
    if (!attempt.ok) continue;
    await tf.ready();
    const info: BackendInfo = {
      requested: request,
      name: candidate.name,
      source: attempt.source,
      candidates: tried,
      addedKernels: attempt.addedKernels ?? [],
      adapter: attempt.adapter,
    };
    recordBackendInfo(info);
    return info;
  }
  const why = tried.map((c) => `${c.source}: ${c.reason}`).join("; ");
  throw new Error(`backend "${request}" is not available here (${why})`);
}
