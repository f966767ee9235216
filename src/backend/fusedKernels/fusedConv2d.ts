/**
 * A 2-D convolution with bias over NHWC ("same" padding) as one kernel forward and one backward
 * (dx, dW, db together). tfjs's fused conv2d records its forward kernel inside a custom-gradient
 * scope and, backward, four kernels (the two convolution backprops, a bias Sum and a Reshape),
 * each one engine dispatch. Both of ours are composed inside the kernel from the backend's own
 * registered kernels (FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul), so
 * the same code serves wasm (the native convolutions where built), cpu and WebGPU.
 *
 * An optional per-sample shift [n, out] is added to every position (a ResBlock's timestep
 * projection): inside the kernel, instead of a reshape, a broadcast Add and, backward, a Sum and
 * three reshapes of its own.
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
/** The same with a per-sample shift: a separate name, because a gradient's inputs are fixed. */
export const FUSED_SHIFTED_CONV = "FairdiffShiftedConv2D";
export const FUSED_CONV_GRAD = "FairdiffConv2DGrad";

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;

export interface ConvAttrs {
  stride: number;
  /** Whether the forward added a per-sample shift (the backward then returns its gradient). */
  shifted: boolean;
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
    const { x, filter, bias, shift } = inputs as Record<string, TensorInfo | undefined>;
    const scope = KernelScope.of(backend, backendName);
    const { stride } = attrs as unknown as ConvAttrs;
    const y = scope.run(
      "FusedConv2D",
      { x: x as TensorInfo, filter: filter as TensorInfo, bias: bias as TensorInfo },
      { ...convolutionAttrs(stride), activation: "linear" },
    );
    if (!shift) return scope.close(y);
    const [n, , , channels] = y.shape;
    return scope.close(scope.run("Add", { a: y, b: scope.reshape(shift, [n, 1, 1, channels]) }));
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, filter } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const { stride, shifted } = attrs as unknown as ConvAttrs;
    const convolution = convolutionAttrs(stride);
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
    // Sums over positions and samples as products with ones: tfjs-wasm's Sum over leading axes
    // transposes first (see fusedLinear.ts).
    const [n, height, width, channels] = dy.shape;
    const sumRows = (t: TensorInfo, batch: number, rows: number) =>
      scope.run(
        "BatchMatMul",
        { a: scope.fill([1, 1, rows], 1), b: scope.reshape(t, [batch, rows, channels]) },
        { transposeA: false, transposeB: false },
      );
    if (!shifted) {
      const dBias = scope.reshape(sumRows(dy, 1, n * height * width), [channels]);
      return scope.closeKeeping([dx, dFilter, dBias]);
    }
    const perSample = sumRows(dy, n, height * width);
    const dBias = scope.reshape(sumRows(perSample, 1, n), [channels]);
    return scope.closeKeeping([dx, dFilter, dBias, scope.reshape(perSample, [n, channels])]);
  };
}

registerOnBackends(FUSED_CONV, BACKENDS, forward);
registerOnBackends(FUSED_SHIFTED_CONV, BACKENDS, forward);
registerOnBackends(FUSED_CONV_GRAD, BACKENDS, backward);
registerFusedGradient({
  kernelName: FUSED_CONV,
  gradKernelName: FUSED_CONV_GRAD,
  inputsToSave: ["x", "filter"],
  gradients: ["x", "filter", "bias"],
});
registerFusedGradient({
  kernelName: FUSED_SHIFTED_CONV,
  gradKernelName: FUSED_CONV_GRAD,
  inputsToSave: ["x", "filter"],
  gradients: ["x", "filter", "bias", "shift"],
});

/**
 * conv2d(x, filter, stride, "same") + bias (+ shift at every position): x [n, h, w, in],
 * filter [k, k, in, out], bias [out], shift [n, out].
 */
export function fusedConv2d(
  x: Tensor,
  filter: Tensor,
  bias: Tensor,
  stride: number,
  shift?: Tensor,
): Tensor {
  if (x.rank !== 4 || filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(`fused conv2d: x [${x.shape}] does not fit a filter [${filter.shape}]`);
  }
  if (bias.rank !== 1 || bias.shape[0] !== filter.shape[3]) {
    throw new Error(`fused conv2d: bias has shape [${bias.shape}], expected [${filter.shape[3]}]`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`fused conv2d: stride must be a positive integer, got ${stride}`);
  }
  const out = filter.shape[3];
  if (shift && (shift.rank !== 2 || shift.shape[0] !== x.shape[0] || shift.shape[1] !== out)) {
    throw new Error(
      `fused conv2d: shift has shape [${shift.shape}], expected [${x.shape[0]},${out}]`,
    );
  }
  const attrs = { stride, shifted: shift !== undefined } as unknown as NamedAttrMap;
  return (
    shift
      ? engine().runKernel(FUSED_SHIFTED_CONV, { x, filter, bias, shift }, attrs)
      : engine().runKernel(FUSED_CONV, { x, filter, bias }, attrs)
  ) as Tensor;
}
