/**
 * fairdiff's native kernels (native/: C++ matrix products, convolutions, the fused norm, SiLU /
 * GELU, attention and AdamW for this machine's widest vectors, with a thread pool), built by
 * `npm install` where a C++ compiler is at hand (scripts/build-native.js) and loaded here when
 * present. They run on tfjs-wasm's tensors in place (the wasm heap), so every other kernel and
 * code path is unchanged.
 *
 * FAIRDIFF_NATIVE: unset or "auto" — use them when built; "off" or "0" — never; "on" or "1" —
 * required (an error says why they cannot load). FAIRDIFF_THREADS: the pool's threads (default:
 * the machine's cores).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread } from "node:worker_threads";
import { threadCountFromEnvironment } from "../threadCountSetting";
import { COMMAND_OPS, COMMAND_REGIONS } from "./nativeCommands";

/** The in-place AdamW passes' arguments (`adamWInPlace` says what each holds). */
type InPlaceAdamW = (
  params: Float32Array[],
  m: Float32Array[],
  v: Float32Array[],
  settings: Float64Array,
  grads: Float32Array[],
  bounds?: Int32Array,
  published?: Float32Array,
) => number;

export interface NativeAddon {
  /** params: [batch, m, n, k, transposeA, transposeB, batchStrideA, batchStrideB, activation]. */
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    bias: Float32Array | null,
    params: Int32Array,
    /** Added to c with the bias (c's shape). */
    residual?: Float32Array | null,
  ): void;
  convForward(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    params: Int32Array,
    /** Added with the bias: row r of it to rowsPerAddendRow output pixels from pixel r·that on. */
    addend?: Float32Array | null,
    rowsPerAddendRow?: number,
  ): void;
  convBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, p: Int32Array): void;
  convBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, p: Int32Array): void;
  normForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    params: Int32Array,
    epsilon: number,
  ): void;
  normBackward(
    dy: Float32Array,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
    params: Int32Array,
    epsilon: number,
  ): void;
  /** One AdamW step over every tensor; returns the count of non-finite new parameters. */
  adamW(
    params: Float32Array[],
    grads: Float32Array[],
    m: Float32Array[],
    v: Float32Array[],
    paramsOut: Float32Array[],
    mOut: Float32Array[],
    vOut: Float32Array[],
    settings: Float64Array,
  ): number;
  /**
   * AdamW where the tensors are: returns how many new parameters would not be finite; when
   * none, every parameter and moment has been updated, otherwise nothing was written. `grads`
   * holds one array per tensor, read where it is (the wasm heap, or data-parallel replicas'
   * summed shares). `bounds` (4 per
   * tensor: known, then the largest |p|, |m| and v as float bits) lets the check rest on what the
   * last update left where known is 1; an update writes them (UpdateBounds). An update also
   * writes the new parameters into `published`, one tensor after another, where given.
   */
  adamWInPlace: InPlaceAdamW;
  /** `adamWInPlace`'s count, nothing written (replicas agree on it before any of them writes). */
  adamWNonFinite: InPlaceAdamW;
  /** `adamWInPlace`'s write alone, once `adamWNonFinite` counted 0 on the same arguments; 0. */
  adamWWriteCounted: InPlaceAdamW;
  /** Σ over the arrays of Σ x² (each array's total in double, added in order). */
  sumOfSquares(x: Float32Array[]): number;
  /**
   * Σ_j (Σ_s sources[s][j])² of equal-length arrays, having written the sums (added in source
   * order, in float) over sources[0].
   */
  sumIntoFirst(sources: Float32Array[]): number;
  /** kind: 0 = SiLU, 1 = GELU. */
  activationForward(x: Float32Array, y: Float32Array, kind: number): void;
  /**
   * `flat` holds `pieces` one after another (its length their total): copies flat → pieces when
   * `toPieces`, else pieces → flat (a memcpy each; set() copies shared memory element by element).
   */
  copyPieces(flat: Float32Array, pieces: Float32Array[], toPieces: boolean): void;
  /** params: [batch, queries, keys, heads, headDim]; keyMask [batch, keys] or null. */
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    keyMask: Float32Array | null,
    out: Float32Array,
    params: Int32Array,
    scale: number,
  ): void;
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    keyMask: Float32Array | null,
    dy: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    params: Int32Array,
    scale: number,
  ): void;
  activationBackward(dy: Float32Array, x: Float32Array, dx: Float32Array, kind: number): void;
  /**
   * The commands in [begin, end) of `commands` (nativeCommands.ts writes them), their arrays
   * `table`'s entries by index: byte offset on `heap` and floats, or (floats stored as ~floats)
   * float offset in `outside`, memory beyond the heap they write directly. Throws the first
   * that fails.
   */
  runCommands(
    heap: Uint8Array,
    table: Int32Array,
    commands: Int32Array,
    begin: number,
    end: number,
    outside?: Float32Array,
  ): void;
  /** How many operations `runCommands` knows (an older build knows fewer). */
  commandOps(): number;
  /** How many memory regions a command table may name (an older build: only the heap). */
  commandRegions(): number;
  setThreads(threads: number): number;
  vectorFloats(): number;
}

/** Every function the kernels call: a build from an older checkout lacks some. */
const ADDON_FUNCTIONS: (keyof NativeAddon)[] = [
  "gemm",
  "convForward",
  "convBackpropInput",
  "convBackpropFilter",
  "normForward",
  "normBackward",
  "adamW",
  "adamWInPlace",
  "adamWNonFinite",
  "adamWWriteCounted",
  "sumOfSquares",
  "sumIntoFirst",
  "activationForward",
  "activationBackward",
  "attentionForward",
  "attentionBackward",
  "copyPieces",
  "runCommands",
  "commandOps",
  "commandRegions",
  "setThreads",
  "vectorFloats",
];

export type NativeRequest = "auto" | "off" | "on";

export interface NativeStatus {
  addon?: NativeAddon;
  /** How it went, in words: what runs, or why the native kernels do not. */
  reason: string;
  threads: number;
}

const ADDON = "fairdiff_native.node";
const MAX_THREADS = 64;

/** FAIRDIFF_NATIVE, checked. */
export function nativeRequestFromEnvironment(): NativeRequest {
  const text = (process.env.FAIRDIFF_NATIVE ?? "").trim().toLowerCase();
  if (text === "" || text === "auto") return "auto";
  if (text === "off" || text === "0") return "off";
  if (text === "on" || text === "1") return "on";
  throw new Error(
    `FAIRDIFF_NATIVE must be "auto", "on" (or 1) or "off" (or 0), got "${process.env.FAIRDIFF_NATIVE}"`,
  );
}

/** FAIRDIFF_THREADS, checked: unset → the machine's cores. */
export function nativeThreadsFromEnvironment(): number {
  return threadCountFromEnvironment("FAIRDIFF_THREADS", os.availableParallelism(), MAX_THREADS);
}

/**
 * A built addon of native/ (`fairdiff_native.node`, …), looked for from this file up to the
 * package root (src/ or dist/src/); undefined where it was not built.
 */
export function builtAddonPath(fileName: string): string | undefined {
  let dir = __dirname;
  for (let up = 0; up < 5; up++) {
    const candidate = path.join(dir, "native", "build", "Release", fileName);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/**
 * The addon is compiled for the CPU that built it (-march=native): on another one (a copied
 * folder) its instructions may not exist, and loading it would kill the process. Says why not.
 */
export function builtForAnotherCpu(file: string): string | undefined {
  interface CpuIdentity {
    arch: string;
    cpu: string;
    flags: string;
  }
  const identityModule = path.join(path.dirname(file), "..", "..", "cpuIdentity.js");
  const { cpuIdentity } = require(identityModule) as { cpuIdentity(): CpuIdentity };
  const here = cpuIdentity();
  let built: CpuIdentity;
  try {
    built = JSON.parse(fs.readFileSync(path.join(path.dirname(file), "built-for.json"), "utf8"));
  } catch {
    return "native kernels not used: their build records no CPU (run `npm run build:native`)";
  }
  if (built.arch === here.arch && built.cpu === here.cpu && built.flags === here.flags) {
    return undefined;
  }
  return `native kernels not used: built for another CPU (${built.cpu}, ${built.arch}; this is ${here.cpu}, ${here.arch}); run \`npm run build:native\``;
}

/** The functions the kernels call that `addon` lacks (a build from an older checkout). */
export function missingAddonFunctions(addon: object): string[] {
  return ADDON_FUNCTIONS.filter(
    (name) => typeof (addon as Record<string, unknown>)[name] !== "function",
  );
}

let loaded: NativeStatus | undefined;

/** Loads the addon once per thread and sets its pool's size; says why when it cannot. */
export function loadNativeKernels(): NativeStatus {
  if (loaded) return loaded;
  const request = nativeRequestFromEnvironment();
  const threads = nativeThreadsFromEnvironment();
  const unavailable = (reason: string): NativeStatus => {
    if (request === "on") throw new Error(`FAIRDIFF_NATIVE=on, but ${reason}`);
    return { reason, threads: 1 };
  };
  if (request === "off") {
    loaded = { reason: "native kernels off (FAIRDIFF_NATIVE=off)", threads: 1 };
    return loaded;
  }
  const file = builtAddonPath(ADDON);
  if (!file) {
    loaded = unavailable(
      "native kernels not built (no C++ compiler or Node headers at `npm install`; `npm run build:native` says why)",
    );
    return loaded;
  }
  const otherCpu = builtForAnotherCpu(file);
  if (otherCpu) {
    loaded = unavailable(otherCpu);
    return loaded;
  }
  try {
    const addon = require(file) as NativeAddon;
    const missing = missingAddonFunctions(addon);
    const ops = Object.keys(COMMAND_OPS).length;
    if (missing.length === 0 && addon.commandOps() !== ops) {
      missing.push(`commands it does not know (it runs ${addon.commandOps()} of ${ops})`);
    }
    if (missing.length === 0 && addon.commandRegions() !== COMMAND_REGIONS) {
      missing.push(`commands' outside region (it reads ${addon.commandRegions()} regions)`);
    }
    if (missing.length > 0) {
      loaded = unavailable(
        `native kernels out of date (their build lacks ${missing.join(", ")}; run \`npm run build:native\`)`,
      );
      return loaded;
    }
    // One pool per process, sized and used by the main thread; a worker thread (a replica, a
    // sampling worker) runs its kernels in itself.
    const running = isMainThread ? addon.setThreads(threads) : 1;
    const width = addon.vectorFloats();
    loaded = {
      addon,
      threads: running,
      reason: `native kernels (C++, ${width * 32}-bit vectors, ${running} thread${running === 1 ? "" : "s"})`,
    };
  } catch (error) {
    loaded = unavailable(`native kernels failed to load: ${(error as Error).message}`);
  }
  return loaded;
}

/** Resizes the native kernels' thread pool (results do not depend on it); returns the size. */
export function setNativeThreads(threads: number): number {
  const status = loadNativeKernels();
  if (!status.addon) throw new Error(`cannot set native threads: ${status.reason}`);
  if (!isMainThread) throw new Error("native threads are set from the main thread only");
  status.threads = status.addon.setThreads(threads);
  return status.threads;
}
