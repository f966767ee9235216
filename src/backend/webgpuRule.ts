/**
 * When `auto` prefers WebGPU over wasm. The rule: never on a software adapter (llvmpipe,
 * lavapipe, SwiftShader, Dawn's fallback adapter), which runs shaders on the CPU; and on a
 * hardware adapter only once WebGPU is measured faster than wasm for fairdiff's models.
 *
 * The measurements behind it (cxr-mini, the shipped model):
 * - lavapipe on a 2-core machine: an audit of 32 images 2 min 13 s on WebGPU vs 13.6 s on wasm;
 *   `sample --n 8` 19.9 s vs 3.7 s.
 * - NVIDIA H100, the only hardware adapter measured: a denoiser training step 4.8–6.0 s on
 *   WebGPU vs 0.6–0.9 s on wasm on one CPU thread of that machine (about 0.5 ms per tfjs kernel
 *   dispatch × ~9,600 kernels a step).
 * So today auto picks wasm wherever wasm runs; `--backend webgpu` (or FAIRDIFF_BACKEND=webgpu)
 * still runs WebGPU on any adapter.
 */
import type { WebgpuAdapter } from "./webgpuAdapter";

export interface WebgpuVerdict {
  faster: boolean;
  why: string;
}

export function webgpuBeatsWasm(adapter: WebgpuAdapter): WebgpuVerdict {
  if (adapter.software) {
    return {
      faster: false,
      why:
        `software adapter (${adapter.name}): shaders run on the CPU, slower than wasm ` +
        `(an audit of 32 images: 2 min 13 s vs 13.6 s); --backend webgpu forces it`,
    };
  }
  return {
    faster: false,
    why:
      `GPU adapter ${adapter.name} found, but fairdiff's models run slower on WebGPU than on wasm ` +
      `today (cxr-mini training step on an H100: 4.8–6.0 s vs 0.6–0.9 s, ~0.5 ms per kernel ` +
      `dispatch); --backend webgpu uses it anyway`,
  };
}
