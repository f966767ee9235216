/**
 * The backends a fused kernel is checked on: cpu and wasm always, WebGPU where Dawn finds an
 * adapter (lavapipe in CI; required under FAIRDIFF_REQUIRE_ALL=1).
 */
import { inspectWebgpuAdapterSync } from "../../src/backend";
import { maxAbsDiff, seededValues } from "../helpers/backends";
import { testWhen } from "../helpers/requirements";

export type FusedBackend = "cpu" | "wasm" | "webgpu";

const webgpuAvailable = inspectWebgpuAdapterSync().available;

/** `test.each` over the three backends; the WebGPU case follows testWhen's rules. */
export function eachBackend(name: string, body: (backend: FusedBackend) => Promise<void>): void {
  for (const backend of ["cpu", "wasm", "webgpu"] as const) {
    const it =
      backend === "webgpu"
        ? testWhen(webgpuAvailable, "a WebGPU adapter (Mesa 25 lavapipe from bookworm-backports)")
        : test;
    it(`${name} [${backend}]`, () => body(backend));
  }
}

/** Deterministic values in [-scale, scale). */
export function seeded(count: number, seed: number, scale = 1): Float32Array {
  return seededValues(count, seed).map((v) => v * 2 * scale);
}

export { maxAbsDiff };
