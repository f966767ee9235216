/**
 * The backends a fused kernel is checked on: cpu and wasm always, WebGPU where Dawn finds an
 * adapter (lavapipe in CI; required under FAIRDIFF_REQUIRE_ALL=1).
 */
import type * as tf from "@tensorflow/tfjs-core";
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

/**
 * Each of `ours` has its reference's shape and values within 1e-4 of it (a fused kernel's
 * outputs and gradients against the composition it replaces). A failure names the case
 * (`where`), the output (`names[k]`, else its index) and the difference.
 */
export async function expectSameOutputs(
  ours: tf.Tensor[],
  reference: tf.Tensor[],
  where: unknown[],
  names: string[] = [],
): Promise<void> {
  for (let k = 0; k < ours.length; k++) {
    expect(ours[k].shape).toEqual(reference[k].shape);
    const diff = maxAbsDiff(await ours[k].data(), await reference[k].data());
    const name = names[k] ?? k;
    expect([...where, name, diff <= 1e-4 ? "ok" : diff]).toEqual([...where, name, "ok"]);
  }
}

export { maxAbsDiff };
