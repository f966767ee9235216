/**
 * A 2-D convolution with bias over NHWC ("same" padding) as one kernel forward and one backward
 * (dx, dW, db together). tfjs's fused conv2d records its forward kernel inside a custom-gradient
 * scope and, backward, four kernels (the two convolution backprops, a bias Sum and a Reshape),
 * each one engine dispatch. Both of ours are composed inside the kernel from the backend's own
 * registered kernels (FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter; sums as products
 * with ones, KernelScope.sumRows), so the same code serves wasm (the native convolutions where
 * built), cpu and WebGPU.
 *
 * An optional addend joins the output inside the kernel: a per-sample shift [n, out] added at
 * every position (a ResBlock's timestep projection) or a residual of the output's shape (a
 * ResBlock's skip). Composed from tfjs ops, each costs a broadcast Add and reshapes forward and a
 * Sum and more reshapes backward, every one an engine dispatch.
 */
import {
  engine,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { registerFusedOpWithAddend, type FusedBackend } from "./fusedGradient";

export const FUSED_CONV = "FairdiffConv2D";
/** The same with an addend: a separate name, because a gradient's inputs are fixed. */
export const FUSED_CONV_ADD = "FairdiffConv2DAdd";
export const FUSED_CONV_GRAD = "FairdiffConv2DGrad";

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;

/** What joins the convolution's output: nothing, a per-sample shift, or a residual. */
export type ConvAddend = "none" | "shift" | "residual";

export interface ConvAttrs {
  stride: number;
  /** The backward returns the addend's gradient after db when there is one. */
  addend: ConvAddend;
}

/** The attributes tfjs's convolution kernels read, for a stride and "same" padding. */
export function convolutionAttrs(stride: number) {
  return {
    strides: [stride, stride] as [number, number],
    pad: "same" as const,
    dataFormat: "NHWC" as const,
    dilations: [1, 1] as [number, number],
    dimRoundingMode: undefined,
  };
}

function forward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, filter, bias, addend } = inputs as Record<string, TensorInfo | undefined>;
    const scope = KernelScope.of(backend, backendName);
    const a = attrs as unknown as ConvAttrs;
    const y = scope.run(
      "FusedConv2D",
      { x: x as TensorInfo, filter: filter as TensorInfo, bias: bias as TensorInfo },
      { ...convolutionAttrs(a.stride), activation: "linear" },
    );
    if (!addend) return scope.close(y);
    const [n, , , channels] = y.shape;
    const b = a.addend === "shift" ? scope.reshape(addend, [n, 1, 1, channels]) : addend;
    return scope.close(scope.run("Add", { a: y, b }));
  };
}

function backward(backendName: FusedBackend): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, filter } = inputs as Record<string, TensorInfo>;
    const scope = KernelScope.of(backend, backendName);
    const a = attrs as unknown as ConvAttrs;
    const convolution = convolutionAttrs(a.stride);
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
    const [n, height, width, channels] = dy.shape;
    if (a.addend !== "shift") {
      const dBias = scope.reshape(scope.sumRows(dy, 1, n * height * width, channels), [channels]);
      // A residual's gradient is dy itself: a reshape shares its buffer, no copy.
      const dResidual = a.addend === "residual" ? [scope.reshape(dy, dy.shape)] : [];
      return scope.closeKeeping([dx, dFilter, dBias, ...dResidual]);
    }
    const perSample = scope.sumRows(dy, n, height * width, channels);
    const dBias = scope.reshape(scope.sumRows(perSample, 1, n, channels), [channels]);
    return scope.closeKeeping([dx, dFilter, dBias, scope.reshape(perSample, [n, channels])]);
  };
}

registerFusedOpWithAddend({
  kernelName: FUSED_CONV,
  addendKernelName: FUSED_CONV_ADD,
  addendInput: "addend",
  gradKernelName: FUSED_CONV_GRAD,
  backends: BACKENDS,
  forward,
  backward,
  inputsToSave: ["x", "filter"],
  gradients: ["x", "filter", "bias"],
});

export interface ConvAddition {
  /** [n, out], added at every position. */
  shift?: Tensor;
  /** The output's shape, added elementwise. */
  residual?: Tensor;
}

/**
 * conv2d(x, filter, stride, "same") + bias (+ a shift at every position, or + a residual):
 * x [n, h, w, in], filter [k, k, in, out], bias [out].
 */
export function fusedConv2d(
  x: Tensor,
  filter: Tensor,
  bias: Tensor,
  stride: number,
  addition: ConvAddition = {},
): Tensor {
  if (x.rank !== 4 || filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(`fused conv2d: x [${x.shape}] does not fit a filter [${filter.shape}]`);
  }
  const out = filter.shape[3];
  if (bias.rank !== 1 || bias.shape[0] !== out) {
    throw new Error(`fused conv2d: bias has shape [${bias.shape}], expected [${out}]`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`fused conv2d: stride must be a positive integer, got ${stride}`);
  }
  const { shift, residual } = addition;
  if (shift && residual) throw new Error("fused conv2d: a shift or a residual, not both");
  if (shift && (shift.rank !== 2 || shift.shape[0] !== x.shape[0] || shift.shape[1] !== out)) {
    throw new Error(
      `fused conv2d: shift has shape [${shift.shape}], expected [${x.shape[0]},${out}]`,
    );
  }
  if (residual) {
    const [n, h, w] = x.shape;
    const expected = [n, Math.ceil(h / stride), Math.ceil(w / stride), out];
    if (residual.shape.join() !== expected.join()) {
      throw new Error(
        `fused conv2d: residual has shape [${residual.shape}], expected [${expected}]`,
      );
    }
  }
  const addend: ConvAddend = shift ? "shift" : residual ? "residual" : "none";
  const attrs = { stride, addend } as unknown as NamedAttrMap;
  const extra = shift ?? residual;
  return (
    extra
      ? engine().runKernel(FUSED_CONV_ADD, { x, filter, bias, addend: extra }, attrs)
      : engine().runKernel(FUSED_CONV, { x, filter, bias }, attrs)
  ) as Tensor;
}
