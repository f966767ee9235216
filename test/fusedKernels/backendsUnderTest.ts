/**
 * The backends a fused kernel is checked on: cpu and wasm always, WebGPU where Dawn finds an
 * adapter (lavapipe in CI; required under FAIRDIFF_REQUIRE_ALL=1).
 */
import { inspectWebgpuAdapterSync } from "../../src/backend";
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
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
