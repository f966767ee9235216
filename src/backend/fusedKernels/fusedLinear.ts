/**
 * A dense layer, y = x·W (+ b) over the last axis of an x of any rank, as one kernel forward and
 * one backward (dx, dW, db together), instead of the reshapes, fused-matmul scope, transposes
 * and bias reduction tfjs's ops record separately. Both are composed inside the kernel from the
 * backend's own registered kernels (_FusedMatMul, BatchMatMul; Reshape shares buffers), so
 * the same code serves wasm, cpu and WebGPU and each part keeps its optimised implementation
 * (on WebGPU the backward and the forward with a residual are WGSL of fewer dispatches:
 * webgpuKernels/fusedLinear.ts).
 * An optional residual of the output's shape (a transformer block's skip) is added inside the
 * kernel: composed from tfjs ops it costs an Add forward and two reshapes backward.
 */
import {
  engine,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorMap,
  type Tensor,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { registerFusedOpWithAddend, type FusedBackend } from "./fusedGradient";

export const FUSED_LINEAR = "FairdiffFusedLinear";
/** The same plus a residual: a separate name, because a gradient's inputs are fixed. */
export const FUSED_LINEAR_RESIDUAL = "FairdiffFusedLinearResidual";
export const FUSED_LINEAR_GRAD = "FairdiffFusedLinearGrad";

interface LinearAttrs {
  /** The backward returns the residual's gradient (dy) after db. */
  residual: boolean;
}

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;

/** The rows a dense layer multiplies: every axis of x but the last. */
export const rowsOf = (shape: number[]) => shape.slice(0, -1).reduce((n, d) => n * d, 1);

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend }) => {
    const { x, weight, bias, residual } = inputs as Record<string, TensorInfo | undefined> as {
      x: TensorInfo;
      weight: TensorInfo;
      bias?: TensorInfo;
      residual?: TensorInfo;
    };
    const [inFeatures, outFeatures] = weight.shape;
    const scope = KernelScope.of(backend, backendName);
    const rows = rowsOf(x.shape);
    const operands = {
      a: scope.reshape(x, [1, rows, inFeatures]),
      b: scope.reshape(weight, [1, inFeatures, outFeatures]),
    };
    const flags = { transposeA: false, transposeB: false };
    const product = bias
      ? scope.run("_FusedMatMul", { ...operands, bias }, { ...flags, activation: "linear" })
      : scope.run("BatchMatMul", operands, flags);
    const y = scope.reshape(product, [...x.shape.slice(0, -1), outFeatures]);
    return scope.close(residual ? scope.run("Add", { a: y, b: residual }) : y);
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, weight } = inputs as Record<string, TensorInfo>;
    const { residual } = attrs as unknown as LinearAttrs;
    const [inFeatures, outFeatures] = weight.shape;
    const scope = KernelScope.of(backend, backendName);
    const rows = rowsOf(x.shape);
    const dy3 = scope.reshape(dy, [1, rows, outFeatures]);
    const x3 = scope.reshape(x, [1, rows, inFeatures]);
    const w3 = scope.reshape(weight, [1, inFeatures, outFeatures]);
    const dx = scope.run("BatchMatMul", { a: dy3, b: w3 }, { transposeA: false, transposeB: true });
    const dW = scope.run("BatchMatMul", { a: x3, b: dy3 }, { transposeA: true, transposeB: false });
    const db = scope.reshape(scope.sumRows(dy3, 1, rows, outFeatures), [outFeatures]);
    // A residual's gradient is dy itself: a reshape shares its buffer, no copy.
    const dResidual = residual ? [scope.reshape(dy, dy.shape)] : [];
    return scope.closeKeeping([
      scope.reshape(dx, x.shape),
      scope.reshape(dW, weight.shape),
      db,
      ...dResidual,
    ]);
  };
}

registerFusedOpWithAddend({
  kernelName: FUSED_LINEAR,
  addendKernelName: FUSED_LINEAR_RESIDUAL,
  addendInput: "residual",
  gradKernelName: FUSED_LINEAR_GRAD,
  backends: BACKENDS,
  forward,
  backward,
  inputsToSave: ["x", "weight"],
  gradients: ["x", "weight", "bias"],
});

/** x·W (+ b) (+ residual) over the last axis of x: x [..., in], W [in, out], b [out]. */
export function fusedLinear(x: Tensor, weight: Tensor, bias?: Tensor, residual?: Tensor): Tensor {
  const [inFeatures, outFeatures] = weight.shape;
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== inFeatures) {
    throw new Error(`fused linear: x [${x.shape}] does not multiply a weight [${weight.shape}]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`fused linear: bias has shape [${bias.shape}], expected [${outFeatures}]`);
  }
  const outShape = [...x.shape.slice(0, -1), outFeatures];
  if (residual && residual.shape.join() !== outShape.join()) {
    throw new Error(`fused linear: residual has shape [${residual.shape}], expected [${outShape}]`);
  }
  const inputs: NamedTensorMap = { x, weight };
  if (bias) inputs.bias = bias;
  if (residual) inputs.residual = residual;
  const attrs = { residual: residual !== undefined } as unknown as NamedAttrMap;
  return engine().runKernel(
    residual ? FUSED_LINEAR_RESIDUAL : FUSED_LINEAR,
    inputs,
    attrs,
  ) as Tensor;
}
