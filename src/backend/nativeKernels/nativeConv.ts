/**
 * Conv2D, FusedConv2D (bias, ReLU) and both convolution gradients on the wasm backend through the
 * native im2col + matrix product (native/src/conv.cc), reading and writing the wasm heap in
 * place. NCHW data, depthwise filters, PReLU and other activations go to the kernel registered
 * before.
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { allFloat32, heapFloats, type WasmBackendLike } from "../backendScope";
import type { NativeAddon } from "./nativeAddon";
import { NATIVE_ACTIVATIONS } from "./nativeMatMul";

type Shape4 = [number, number, number, number];

export interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  activation?: string;
  inputShape?: Shape4;
  filterShape?: Shape4;
}

/** native/src/conv.h's ConvShape, then the activation code. */
export function convParams(info: backend_util.Conv2DInfo, activation: number): Int32Array {
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    activation,
  );
}

export function convInfo(
  xShape: number[],
  filterShape: number[],
  a: ConvAttrs,
  dilations: boolean,
) {
  return backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    a.strides,
    dilations ? (a.dilations ?? 1) : 1,
    a.pad,
    a.dimRoundingMode,
    false,
    "channelsLast",
  );
}

function forward(addon: NativeAddon, fallback: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const code = NATIVE_ACTIVATIONS[fused ? (attrs.activation ?? "linear") : "linear"];
    const outChannels = filter.shape[3];
    if (
      attrs.dataFormat === "NCHW" ||
      code === undefined ||
      preluActivationWeights ||
      !allFloat32([x, filter, bias]) ||
      (bias && bias.shape.reduce((n, d) => n * d, 1) !== outChannels)
    ) {
      return fallback(args);
    }
    const backend = args.backend as WasmBackendLike;
    const info = convInfo(x.shape, filter.shape, attrs, true);
    const out = backend.makeOutput(info.outShape, "float32");
    if (info.outShape.includes(0)) return out;
    addon.convForward(
      heapFloats(backend, x),
      heapFloats(backend, filter),
      fused && bias ? heapFloats(backend, bias) : null,
      heapFloats(backend, out),
      convParams(info, code),
    );
    return out;
  };
}

function backpropInput(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as Record<string, TensorInfo>;
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW" || !allFloat32([dy, filter])) return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const info = convInfo(attrs.inputShape as number[], filter.shape, attrs, false);
    const dx = backend.makeOutput(info.inShape, "float32");
    if (info.inShape.includes(0)) return dx;
    addon.convBackpropInput(
      heapFloats(backend, dy),
      heapFloats(backend, filter),
      heapFloats(backend, dx),
      convParams(info, 0),
    );
    return dx;
  };
}

function backpropFilter(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as Record<string, TensorInfo>;
    const attrs = args.attrs as unknown as ConvAttrs;
    if (attrs.dataFormat === "NCHW" || !allFloat32([x, dy])) return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const info = convInfo(x.shape, attrs.filterShape as number[], attrs, false);
    const dw = backend.makeOutput(attrs.filterShape as number[], "float32");
    const view = heapFloats(backend, dw);
    if (info.outShape.includes(0)) {
      view.fill(0);
      return dw;
    }
    addon.convBackpropFilter(
      heapFloats(backend, x),
      heapFloats(backend, dy),
      view,
      convParams(info, 0),
    );
    return dw;
  };
}

export function nativeConvConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  const make = (name: string, build: (fallback: KernelFunc) => KernelFunc): KernelConfig => {
    const before = previous(name);
    return {
      kernelName: name,
      backendName: "wasm",
      setupFunc: before.setupFunc,
      kernelFunc: build(before.kernelFunc),
    };
  };
  return [
    make("Conv2D", (f) => forward(addon, f, false)),
    make("FusedConv2D", (f) => forward(addon, f, true)),
    make("Conv2DBackpropInput", (f) => backpropInput(addon, f)),
    make("Conv2DBackpropFilter", (f) => backpropFilter(addon, f)),
  ];
}
