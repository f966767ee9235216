/**
 * WebGPU under Node through Dawn (`webgpu` package, which ships `dawn.node`). The package is an
 * ES module; we load its native addon directly so CommonJS code (and jest) can use it.
 *
 * Two ways in: `inspectWebgpuAdapter` asks Dawn in a child process which adapter this machine
 * has (so `auto` can pass over a software adapter without Dawn's native warnings reaching the
 * terminal), and `installWebgpu` sets up `navigator.gpu` in this process for tfjs-webgpu.
 */
import { execFile, spawnSync } from "node:child_process";
import * as path from "node:path";

interface DawnModule {
  create(options: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

interface DawnGpu {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

interface GpuAdapterLike {
  info?: AdapterInfo;
  isFallbackAdapter?: boolean;
  limits?: { maxStorageBuffersPerShaderStage?: number };
  requestDevice?(descriptor?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/**
 * tfjs-webgpu asks for a device with WebGPU's default of 8 storage buffers per shader; most
 * adapters bind more (lavapipe 16). fairdiff's multi-tensor kernels (AdamW, the gradient norm,
 * AddN) fit as many tensors into a dispatch as the device allows, so the device gets the
 * adapter's own limit: on lavapipe, half the dispatches for them.
 */
function withAdapterStorageLimit(adapter: GpuAdapterLike): void {
  const requestDevice = adapter.requestDevice;
  const most = adapter.limits?.maxStorageBuffersPerShaderStage;
  if (!requestDevice || !most) return;
  adapter.requestDevice = (descriptor = {}) =>
    requestDevice.call(adapter, {
      ...descriptor,
      requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: most },
    });
}

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** What Dawn says of the adapter it would hand tfjs-webgpu. */
export interface WebgpuAdapter {
  name: string;
  /** A CPU implementation (llvmpipe/lavapipe, SwiftShader, Dawn's fallback adapter). */
  software: boolean;
}

export interface WebgpuProbe {
  available: boolean;
  reason: string;
  adapter?: WebgpuAdapter;
}

function dawnAddonPath(): string {
  const packageDir = path.dirname(require.resolve("webgpu/package.json"));
  const arch = process.platform === "darwin" ? "universal" : process.arch;
  return path.join(packageDir, "dist", `${process.platform}-${arch}`, "dawn.node");
}

/**
 * Dawn instance options: FAIRDIFF_DAWN_OPTIONS="a;b" replaces the defaults (see the `webgpu`
 * package's README: enable-dawn-features=…, backend=…, adapter=…).
 */
function dawnOptions(): string[] {
  const fromEnv = process.env.FAIRDIFF_DAWN_OPTIONS;
  if (fromEnv !== undefined) return fromEnv.split(";").filter(Boolean);
  return [];
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|basic render/i;

export function describeAdapter(info: AdapterInfo, fallback: boolean): WebgpuAdapter {
  const fields = [info.vendor, info.architecture, info.device, info.description];
  const name = fields.filter((s) => s && s.length > 0).join(" ") || "unnamed adapter";
  const software = fallback || info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(name);
  return { name, software };
}

const NO_ADAPTER = "no WebGPU adapter (needs a GPU and the Vulkan loader, libvulkan1)";

/** Runs in the child: prints the adapter's fields as one JSON line (or `null`). */
const INSPECT_SCRIPT = `
const dawn = require(process.argv[1]);
const gpu = dawn.create(JSON.parse(process.argv[2]));
gpu.requestAdapter({ powerPreference: "high-performance" }).then((a) => {
  const i = (a && a.info) || {};
  const out = a && { vendor: i.vendor, architecture: i.architecture, device: i.device,
    description: i.description, isFallbackAdapter: i.isFallbackAdapter === true || a.isFallbackAdapter === true };
  process.stdout.write(JSON.stringify(out) + "\\n");
  process.exit(0);
}, (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message) }) + "\\n"); process.exit(0); });
`;

/** Reads the child's answer (its last stdout line) into a probe result. */
function probeFromChild(stdout: string, failure: string | undefined): WebgpuProbe {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let parsed: (AdapterInfo & { error?: string }) | null | undefined;
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    return { available: false, reason: `webgpu (Dawn) failed to start: ${failure || "no output"}` };
  }
  if (parsed === null) return { available: false, reason: NO_ADAPTER };
  if (parsed.error !== undefined) {
    return { available: false, reason: `WebGPU adapter request failed: ${parsed.error}` };
  }
  const adapter = describeAdapter(parsed, parsed.isFallbackAdapter === true);
  return { available: true, reason: "WebGPU adapter found", adapter };
}

function childArguments(): string[] | WebgpuProbe {
  try {
    return ["-e", INSPECT_SCRIPT, dawnAddonPath(), JSON.stringify(dawnOptions())];
  } catch (error) {
    return {
      available: false,
      reason: `webgpu (Dawn) is not installed: ${(error as Error).message}`,
    };
  }
}

const lastLine = (text: string) => text.trim().split("\n").at(-1);

let inspected: Promise<WebgpuProbe> | undefined;

/**
 * Which adapter Dawn finds, asked in a child process whose stderr is captured: Dawn prints
 * limit warnings from native code on some adapters (lavapipe), which no JavaScript can silence.
 * Cached for the process.
 */
export function inspectWebgpuAdapter(timeoutMs = 15000): Promise<WebgpuProbe> {
  inspected ??= new Promise<WebgpuProbe>((resolve) => {
    const args = childArguments();
    if (!Array.isArray(args)) return resolve(args);
    execFile(
      process.execPath,
      args,
      { timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        const failure = error?.killed ? `no answer in ${timeoutMs / 1000} s` : lastLine(stderr);
        resolve(probeFromChild(stdout, failure));
      },
    );
  });
  return inspected;
}

/** The same question, answered synchronously (for callers that decide before any await). */
export function inspectWebgpuAdapterSync(timeoutMs = 15000): WebgpuProbe {
  const args = childArguments();
  if (!Array.isArray(args)) return args;
  const child = spawnSync(process.execPath, args, { timeout: timeoutMs, encoding: "utf8" });
  const failure = child.error ? child.error.message : lastLine(child.stderr ?? "");
  return probeFromChild(child.stdout ?? "", failure);
}

let installed: Promise<WebgpuProbe> | undefined;

/**
 * Installs `navigator.gpu` and the WebGPU globals in this process and asks Dawn for an adapter
 * once; tfjs-webgpu's own `requestAdapter` gets that same adapter. Resolves without throwing: a
 * machine with no GPU (or no Vulkan loader) gets a reason instead.
 */
export function installWebgpu(timeoutMs = 15000): Promise<WebgpuProbe> {
  installed ??= (async (): Promise<WebgpuProbe> => {
    let dawn: DawnModule;
    try {
      dawn = require(dawnAddonPath()) as DawnModule;
    } catch (error) {
      return {
        available: false,
        reason: `webgpu (Dawn) failed to load: ${(error as Error).message}`,
      };
    }
    try {
      const gpu = dawn.create(dawnOptions());
      const adapter = await Promise.race([
        gpu.requestAdapter({ powerPreference: "high-performance" }),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref()),
      ]);
      if (!adapter) return { available: false, reason: NO_ADAPTER };
      withAdapterStorageLimit(adapter);
      Object.assign(globalThis, dawn.globals);
      const g = globalThis as { navigator?: { gpu?: unknown } };
      if (!g.navigator) {
        Object.defineProperty(globalThis, "navigator", { value: {}, writable: true });
      }
      // One adapter request per process: each one makes Dawn enumerate (and warn) again.
      // (`instance` keeps Dawn alive as long as navigator.gpu is.)
      const shared = {
        instance: gpu,
        requestAdapter: () => Promise.resolve(adapter),
        getPreferredCanvasFormat: () => "rgba8unorm",
      };
      (g.navigator as { gpu?: unknown }).gpu = shared;
      return {
        available: true,
        reason: "WebGPU adapter found",
        adapter: describeAdapter(adapter.info ?? {}, adapter.isFallbackAdapter === true),
      };
    } catch (error) {
      return {
        available: false,
        reason: `WebGPU adapter request failed: ${(error as Error).message}`,
      };
    }
  })();
  return installed;
}
