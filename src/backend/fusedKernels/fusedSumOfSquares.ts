/**
 * Σ x² over every element of many tensors, as one kernel: a training step's global gradient norm
 * (for clipping) without ~2 kernels per variable or a download of every gradient. wasm and cpu:
 * one loop over the host arrays, summed in double (natively on wasm where built:
 * nativeKernels/nativeNormAdamW.ts); WebGPU: a workgroup per tensor
 * (webgpuKernels/sumOfSquares.ts).
 */
import { engine, type NamedTensorMap, type Tensor } from "@tensorflow/tfjs-core";
import type { HostKernel } from "./hostKernel";

export const FUSED_SUM_OF_SQUARES = "FairdiffSumOfSquares";

export const sumOfSquaresHost: HostKernel<Record<string, never>> = {
  name: FUSED_SUM_OF_SQUARES,
  outputShapes: () => [[1]],
  compute(inputs, outputs) {
    let total = 0;
    for (const values of inputs) {
      for (let j = 0; j < values.length; j++) total += values[j] * values[j];
    }
    outputs[0][0] = total;
  },
};

/** Σ over every tensor of Σ x², as a [1] tensor. */
export function fusedSumOfSquares(tensors: Tensor[]): Tensor {
  if (tensors.length === 0) throw new Error("fusedSumOfSquares: no tensors");
  return engine().runKernel(
    FUSED_SUM_OF_SQUARES,
    tensors as unknown as NamedTensorMap,
    {},
  ) as Tensor;
}
