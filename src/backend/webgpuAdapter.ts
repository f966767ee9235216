/**
 * WebGPU under Node through Dawn (`webgpu` package, which ships `dawn.node`). The package is an
 * ES module; we load its native addon directly so CommonJS code (and jest) can use it.
 */
import * as path from "node:path";

interface DawnModule {
  create(options: string[]): { requestAdapter(options?: object): Promise<GpuAdapterLike | null> };
  globals: Record<string, unknown>;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

export interface WebgpuProbe {
  available: boolean;
  reason: string;
  adapter?: string;
}

function loadDawn(): DawnModule {
  const packageDir = path.dirname(require.resolve("webgpu/package.json"));
  const arch = process.platform === "darwin" ? "universal" : process.arch;
  const addon = path.join(packageDir, "dist", `${process.platform}-${arch}`, "dawn.node");
  return require(addon) as DawnModule;
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

/**
 * Installs `navigator.gpu` and the WebGPU globals, then asks Dawn for an adapter. Resolves
 * without throwing: a machine with no GPU (or no Vulkan loader) gets a reason instead.
 */
export async function probeWebgpu(timeoutMs = 5000): Promise<WebgpuProbe> {
  let dawn: DawnModule;
  try {
    dawn = loadDawn();
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
    if (!adapter) {
      return {
        available: false,
        reason: "no WebGPU adapter (needs a GPU and the Vulkan loader, libvulkan1)",
      };
    }
    Object.assign(globalThis, dawn.globals);
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, writable: true });
    (g.navigator as { gpu?: unknown }).gpu = gpu;
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description]
      .filter((s) => s && s.length > 0)
      .join(" ");
    return { available: true, reason: "WebGPU adapter found", adapter: name || "unnamed adapter" };
  } catch (error) {
    return {
      available: false,
      reason: `WebGPU adapter request failed: ${(error as Error).message}`,
    };
  }
}
