/**
 * The forwards of fairdiff's fused convolution and dense layer (fusedKernels/fusedConv2d.ts,
 * fusedLinear.ts) on the wasm backend as one native product each, their addend — a residual, or
 * a shift per image — added in the product's epilogue with the bias, where the composition ran
 * the product and then a wasm Add over the whole output (~3 % of sampling). Non-float32 inputs go
 * to the composed kernels registered before.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { allFloat32, heapFloats, type WasmBackendLike } from "../backendScope";
import {
  convolutionAttrs,
  FUSED_CONV,
  FUSED_CONV_ADD,
  type ConvAttrs,
} from "../fusedKernels/fusedConv2d";
import { FUSED_LINEAR, FUSED_LINEAR_RESIDUAL } from "../fusedKernels/fusedLinear";
import type { NativeAddon } from "./nativeAddon";
import { convInfo, convParams } from "./nativeConv";

type Inputs = Record<string, TensorInfo | undefined>;

function convolution(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, addend } = args.inputs as Inputs;
    if (!x || !filter || !allFloat32([x, filter, bias, addend])) return fallback(args);
    const a = args.attrs as unknown as ConvAttrs;
    const backend = args.backend as WasmBackendLike;
    // The fused convolution's geometry, as its composition hands it to tfjs's kernels.
    const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), true);
    const out = backend.makeOutput(info.outShape, "float32");
    if (info.outShape.includes(0)) return out;
    // A shift adds one row per image: every output pixel of that image reads it.
    const rowsPerAddendRow = a.addend === "shift" ? info.outHeight * info.outWidth : 1;
    addon.convForward(
      heapFloats(backend, x),
      heapFloats(backend, filter),
      bias ? heapFloats(backend, bias) : null,
      heapFloats(backend, out),
      convParams(info, 0),
      addend ? heapFloats(backend, addend) : null,
      rowsPerAddendRow,
    );
    return out;
  };
}

function linear(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, weight, bias, residual } = args.inputs as Inputs;
    if (!x || !weight || !allFloat32([x, weight, bias, residual])) return fallback(args);
    const backend = args.backend as WasmBackendLike;
    const [inFeatures, outFeatures] = weight.shape;
    const rows = x.shape.slice(0, -1).reduce((n, d) => n * d, 1);
    const out = backend.makeOutput([...x.shape.slice(0, -1), outFeatures], "float32");
    if (rows * outFeatures === 0) return out;
    addon.gemm(
      heapFloats(backend, x),
      heapFloats(backend, weight),
      heapFloats(backend, out),
      bias ? heapFloats(backend, bias) : null,
      Int32Array.of(1, rows, outFeatures, inFeatures, 0, 0, 0, 0, 0),
      residual ? heapFloats(backend, residual) : null,
    );
    return out;
  };
}

export function nativeFusedForwardConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  const make = (name: string, build: (fallback: KernelFunc) => KernelFunc): KernelConfig => ({
    kernelName: name,
    backendName: "wasm",
    kernelFunc: build(previous(name).kernelFunc),
  });
  return [
    make(FUSED_CONV, (f) => convolution(addon, f)),
    make(FUSED_CONV_ADD, (f) => convolution(addon, f)),
    make(FUSED_LINEAR, (f) => linear(addon, f)),
    make(FUSED_LINEAR_RESIDUAL, (f) => linear(addon, f)),
  ];
}
