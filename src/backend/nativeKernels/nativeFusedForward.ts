/**
 * The forwards of fairdiff's fused convolution and dense layer (fusedKernels/fusedConv2d.ts,
 * fusedLinear.ts) on the wasm backend as one native product each, their addend — a residual, or
 * a shift per image — added in the product's epilogue with the bias, where the composition ran
 * the product and then a wasm Add over the whole output (~3 % of sampling). Non-float32 inputs go
 * to the composed kernels registered before.
 */
import { util, type KernelConfig } from "@tensorflow/tfjs-core";
import { allFloat32 } from "../backendScope";
import {
  convolutionAttrs,
  FUSED_CONV,
  FUSED_CONV_ADD,
  type ConvAttrs,
} from "../fusedKernels/fusedConv2d";
import { FUSED_LINEAR, FUSED_LINEAR_RESIDUAL, rowsOf } from "../fusedKernels/fusedLinear";
import { heapKernelsOver, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { convInfo, convParams } from "./nativeConv";
import { gemmParams } from "./nativeMatMul";

function convolution(addon: NativeAddon): HeapPlanner {
  return (inputs, attrs) => {
    const { x, filter, bias, addend } = inputs;
    if (!x || !filter || !allFloat32([x, filter, bias, addend])) return undefined;
    const a = attrs as unknown as ConvAttrs;
    // The fused convolution's geometry, as its composition hands it to tfjs's kernels.
    const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), true);
    const params = convParams(info, 0);
    // A shift adds one row per image: every output pixel of that image reads it.
    const rowsPerAddendRow = a.addend === "shift" ? info.outHeight * info.outWidth : 1;
    const empty = util.sizeFromShape(info.outShape) === 0;
    return {
      reads: ["x", "filter", "bias", "addend"],
      outputs: [{ shape: info.outShape }],
      run([xs, filters, biases, addends], [y]) {
        if (empty) return;
        addon.convForward(
          xs as Float32Array,
          filters as Float32Array,
          biases,
          y,
          params,
          addends,
          rowsPerAddendRow,
        );
      },
    };
  };
}

function linear(addon: NativeAddon): HeapPlanner {
  return (inputs) => {
    const { x, weight, bias, residual } = inputs;
    if (!x || !weight || !allFloat32([x, weight, bias, residual])) return undefined;
    const [inFeatures, outFeatures] = weight.shape;
    const rows = rowsOf(x.shape);
    const params = gemmParams({ m: rows, n: outFeatures, k: inFeatures });
    return {
      reads: ["x", "weight", "bias", "residual"],
      outputs: [{ shape: [...x.shape.slice(0, -1), outFeatures] }],
      run([xs, weights, biases, residuals], [y]) {
        if (rows * outFeatures === 0) return;
        addon.gemm(xs as Float32Array, weights as Float32Array, y, biases, params, residuals);
      },
    };
  };
}

export function nativeFusedForwardConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(previous, {
    [FUSED_CONV]: convolution(addon),
    [FUSED_CONV_ADD]: convolution(addon),
    [FUSED_LINEAR]: linear(addon),
    [FUSED_LINEAR_RESIDUAL]: linear(addon),
  });
}
