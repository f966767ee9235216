/**
 * tfjs-wasm's threaded SIMD build (XNNPACK's thread pool) under Node, which tfjs itself leaves off
 * there (tfjs issue #3830). The build is Emscripten code that does support Node's worker_threads;
 * three browser-isms stop it, and each is bridged only while the backend starts:
 *
 *  1. tfjs hands Emscripten its worker script and main script as `Blob`s; Node's workers cannot
 *     start from `blob:` URLs (ERR_WORKER_PATH). The two scripts are written to a private temporary
 *     folder instead, and the worker script loads the main script from there.
 *  2. The main script is tfjs's bundled factory function as text; its bundle-level names
 *     (`commonjsGlobal`, `require$$0` …) are defined in front of it.
 *  3. The C++ side caps the pool at "logical cores / 2" (it assumes two hyper-threads per core),
 *     i.e. one thread on a two-core machine; `os.cpus()` answers for twice the cores during start-up,
 *     so the cap becomes the machine's core count.
 *
 * The pool's workers are unref'd afterwards: idle, they must not keep a finished process alive.
 * Anything unexpected in tfjs's scripts (another tfjs version) throws before the backend starts,
 * and the caller falls back to one thread, saying why.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { threadCountFromEnvironment } from "./threadCountSetting";

/** How the worker script loads the main script: the text this module replaces. */
const WORKER_LOAD =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

// The module object itself (an ES namespace import is read-only): tfjs's bundle asks the same one.
const os = require("node:os") as typeof import("node:os");

const MAIN_SCRIPT_START = "var WasmBackendModuleThreadedSimd";

/** The bundle-level names tfjs's factory function refers to (tf-backend-wasm.node.js). */
const BUNDLE_PRELUDE =
  'var commonjsGlobal = globalThis, require$$0 = require("fs"), require$$1 = require("path"), ' +
  'require$$3 = require("perf_hooks"), require$$4 = require("os");\n';

/** Parses FAIRDIFF_WASM_THREADS: unset or empty → 1; otherwise an integer 1–8. */
export function wasmThreadsFromEnvironment(): number {
  return threadCountFromEnvironment("FAIRDIFF_WASM_THREADS", 1, 8, "XNNPACK's pool holds 8");
}

interface ThreadedStart {
  /** Undoes the start-up bridges; call once the backend is ready. */
  restore(): void;
}

/**
 * Makes the next `tf.setBackend("wasm")` start the threaded build with `threads` threads.
 * `setThreadsCount` is tfjs-backend-wasm's own.
 */
export function prepareWasmThreads(
  threads: number,
  setThreadsCount: (n: number) => void,
): ThreadedStart {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-wasm-threads-"));
  process.once("exit", () => fs.rmSync(folder, { recursive: true, force: true }));
  const mainScript = path.join(folder, "main.js");
  const workerScript = path.join(folder, "worker.js");
  const RealBlob = globalThis.Blob;
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;

  /** A Blob that keeps its text, so it can be written to a file synchronously. */
  class TextBlob extends RealBlob {
    readonly text_: string;
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      this.text_ = (args[0] ?? []).map((p) => (typeof p === "string" ? p : "")).join("");
      if (this.text_.startsWith(MAIN_SCRIPT_START)) {
        fs.writeFileSync(mainScript, BUNDLE_PRELUDE + this.text_);
      }
    }
  }
  globalThis.Blob = TextBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob) => {
    if (!(blob instanceof TextBlob)) return realCreateObjectURL(blob);
    if (!blob.text_.includes(WORKER_LOAD) || !fs.existsSync(mainScript)) {
      throw new Error("tfjs-backend-wasm's threaded scripts are not the ones this bridge knows");
    }
    const worker = blob.text_.replace(WORKER_LOAD, `importScripts(${JSON.stringify(mainScript)});`);
    fs.writeFileSync(workerScript, worker);
    return workerScript;
  };
  os.cpus = () => {
    const cpus = realCpus();
    return [...cpus, ...cpus];
  };
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(threads);
  return {
    restore() {
      globalThis.Blob = RealBlob;
      URL.createObjectURL = realCreateObjectURL;
      os.cpus = realCpus;
    },
  };
}

interface EmscriptenThreads {
  PThread?: { unusedWorkers: { unref(): void }[]; runningWorkers: { unref(): void }[] };
}

/** Lets a process whose work is done exit although the pool's idle workers still exist. */
export function unrefWasmWorkers(backend: unknown): void {
  const threads = (backend as { wasm?: EmscriptenThreads }).wasm?.PThread;
  if (!threads) return;
  for (const worker of [...threads.unusedWorkers, ...threads.runningWorkers]) worker.unref();
}
