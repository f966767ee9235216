/**
 * Conv2DBackpropInput for wasm (the shipped one is a naive loop), as one XNNPACK convolution of
 * the stride-dilated output gradient with the spatially flipped, in/out-swapped filter.
 */
import {
  backend_util,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { KernelScope, type WasmBackendLike } from "../backendScope";

/** Inserts (s−1) zeros after every row/column: [b,oh,ow,c] → [b, oh·sh, ow·sw, c]. */
export function insertStrideZeros(
  scope: KernelScope,
  dy: TensorInfo,
  sh: number,
  sw: number,
): TensorInfo {
  if (sh === 1 && sw === 1) return dy;
  const [b, oh, ow, c] = dy.shape;
  const padded = scope.run(
    "PadV2",
    { x: scope.reshape(dy, [b, oh, 1, ow, 1, c]) },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  return scope.reshape(padded, [b, oh * sh, ow * sw, c]);
}

function conv2dBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== "channelsLast") {
    throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, inH, inW] = inputShape;
  const { top, left } = info.padInfo;
  // The zero-inserted gradient already ends in (s−1) zero rows: they count as bottom padding.
  const bottom = inH + top - (info.outHeight - 1) * sh - 1 - (sh - 1);
  const right = inW + left - (info.outWidth - 1) * sw - 1 - (sw - 1);

  const scope = new KernelScope(backend);
  const flipped = scope.transpose(
    scope.run("Reverse", { x: filter }, { dims: [0, 1] }),
    [0, 1, 3, 2],
  );
  let upsampled = insertStrideZeros(scope, dy, sh, sw);
  if (bottom < 0 || right < 0) {
    const [b, h, w, c] = upsampled.shape;
    upsampled = scope.run(
      "Slice",
      { x: upsampled },
      { begin: [0, 0, 0, 0], size: [b, h + Math.min(0, bottom), w + Math.min(0, right), c] },
    );
  }
  const dx = scope.run(
    "Conv2D",
    { x: upsampled, filter: flipped },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [kh - 1 - top, Math.max(0, bottom)],
        [kw - 1 - left, Math.max(0, right)],
        [0, 0],
      ],
      dataFormat: "NHWC",
    },
  );
  return scope.close(dx);
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: conv2dBackpropInput as unknown as KernelConfig["kernelFunc"],
};
