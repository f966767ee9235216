/**
 * The activations tfjs-core lacks, each one kernel forward and one backward
 * (backend/fusedKernels/fusedActivation.ts): fewer kernels per step than autodiff through their
 * pieces, which matters on wasm where per-kernel overhead is a large share of a small model's
 * step. test/fusedKernels/fusedActivation.test.ts checks them against the composed ops.
 */
import type * as tf from "@tensorflow/tfjs-core";
import { fusedActivation } from "../backend/fusedKernels/fusedActivationOp";

/** SiLU / swish: x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return fusedActivation(x, "silu");
}

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedActivation(x, "gelu");
}
