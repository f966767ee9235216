/**
 * A 2-D convolution with bias over NHWC ("same" padding) as one kernel forward and one backward
 * (dx, dW, db together). tfjs's fused conv2d records its forward kernel inside a custom-gradient
 * scope and, backward, four kernels (the two convolution backprops, a bias Sum and a Reshape),
 * each one engine dispatch. Both of ours are composed inside the kernel from the backend's own
 * registered kernels (FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul), so
 * the same code serves wasm (the native convolutions where built), cpu and WebGPU.
 */
import {
  engine,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { registerFusedGradient, registerOnBackends, type FusedBackend } from "./fusedGradient";

export const FUSED_CONV = "FairdiffConv2D";
export const FUSED_CONV_GRAD = "FairdiffConv2DGrad";

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;

export interface ConvAttrs {
  stride: number;
}

/** The attributes tfjs's convolution kernels read, for a stride and "same" padding. */
function convolutionAttrs(stride: number) {
  return {
    strides: [stride, stride],
    pad: "same",
    dataFormat: "NHWC",
    dilations: [1, 1],
    dimRoundingMode: undefined,
  };
}

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter, bias } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const { stride } = attrs as unknown as ConvAttrs;
    const y = scope.run(
      "FusedConv2D",
      { x, filter, bias },
      { ...convolutionAttrs(stride), activation: "linear" },
    );
    return scope.close(y);
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, filter } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const convolution = convolutionAttrs((attrs as unknown as ConvAttrs).stride);
    const dx = scope.run(
      "Conv2DBackpropInput",
      { dy, filter },
      { ...convolution, inputShape: x.shape },
    );
    const dFilter = scope.run(
      "Conv2DBackpropFilter",
      { x, dy },
      { ...convolution, filterShape: filter.shape },
    );
    // Σ over batch and positions as ones[1, rows]·dy: tfjs-wasm's Sum over leading axes
    // transposes first (see fusedLinear.ts).
    const channels = dy.shape[3];
    const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
    const dBias = scope.reshape(
      scope.run(
        "BatchMatMul",
        { a: scope.fill([1, 1, rows], 1), b: scope.reshape(dy, [1, rows, channels]) },
        { transposeA: false, transposeB: false },
      ),
      [channels],
    );
    return scope.closeKeeping([dx, dFilter, dBias]);
  };
}

registerOnBackends(FUSED_CONV, BACKENDS, forward);
registerOnBackends(FUSED_CONV_GRAD, BACKENDS, backward);
registerFusedGradient({
  kernelName: FUSED_CONV,
  gradKernelName: FUSED_CONV_GRAD,
  inputsToSave: ["x", "filter"],
  gradients: ["x", "filter", "bias"],
});

/** conv2d(x, filter, stride, "same") + bias: x [n, h, w, in], filter [k, k, in, out], bias [out]. */
export function fusedConv2d(x: Tensor, filter: Tensor, bias: Tensor, stride: number): Tensor {
  if (x.rank !== 4 || filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(`fused conv2d: x [${x.shape}] does not fit a filter [${filter.shape}]`);
  }
  if (bias.rank !== 1 || bias.shape[0] !== filter.shape[3]) {
    throw new Error(`fused conv2d: bias has shape [${bias.shape}], expected [${filter.shape[3]}]`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`fused conv2d: stride must be a positive integer, got ${stride}`);
  }
  const attrs = { stride } as unknown as NamedAttrMap;
  return engine().runKernel(FUSED_CONV, { x, filter, bias }, attrs) as Tensor;
}
