/**
 * Conv2DBackpropFilter for wasm (missing as shipped), as one XNNPACK convolution:
 *   dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[b,oh,ow,co]
 * is a convolution of x with channels and batch swapped ([ci,H,W,B]) by dy used as a filter
 * ([oh,ow,B,co]), with stride 1 and dilation equal to the forward stride.
 */
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope, type WasmBackendLike } from "../backendScope";

function conv2dBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== "channelsLast") {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, inH, inW] = x.shape;
  const { top, left } = info.padInfo;
  // Bottom/right padding that makes the output exactly kh×kw; unused tail rows are cropped.
  const bottom = Math.max(0, kh + sh * (info.outHeight - 1) - inH - top);
  const right = Math.max(0, kw + sw * (info.outWidth - 1) - inW - left);

  const scope = new KernelScope(backend);
  let grad = scope.run(
    "Conv2D",
    { x: scope.transpose(x, [3, 1, 2, 0]), filter: scope.transpose(dy, [1, 2, 0, 3]) },
    {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: "NHWC",
    },
  );
  if (grad.shape[1] !== kh || grad.shape[2] !== kw) {
    grad = scope.run("Slice", { x: grad }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] });
  }
  return scope.close(scope.transpose(grad, [1, 2, 0, 3]));
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter as unknown as KernelConfig["kernelFunc"],
};
