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
import { CommandWriter } from "./nativeCommands";
import { convInfo, convParams } from "./nativeConv";
import { gemmParams } from "./nativeMatMul";

const convolution: HeapPlanner = (inputs, attrs) => {
  const { x, filter, bias, addend } = inputs;
  if (!x || !filter || !allFloat32([x, filter, bias, addend])) return undefined;
  const a = attrs as unknown as ConvAttrs;
  // The fused convolution's geometry, as its composition hands it to tfjs's kernels.
  const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), true);
  // A shift adds one row per image: every output pixel of that image reads it.
  const rowsPerAddendRow = a.addend === "shift" ? info.outHeight * info.outWidth : 1;
  const commands = new CommandWriter();
  if (util.sizeFromShape(info.outShape) > 0) {
    commands.add(
      "convForward",
      [0, 1, bias ? 2 : null, 4, addend ? 3 : null],
      [...convParams(info, 0), rowsPerAddendRow],
    );
  }
  return {
    reads: ["x", "filter", "bias", "addend"],
    outputs: [{ shape: info.outShape }],
    commands: commands.finish(),
  };
};

const linear: HeapPlanner = (inputs) => {
  const { x, weight, bias, residual } = inputs;
  if (!x || !weight || !allFloat32([x, weight, bias, residual])) return undefined;
  const [inFeatures, outFeatures] = weight.shape;
  const rows = rowsOf(x.shape);
  const commands = new CommandWriter();
  if (rows * outFeatures > 0) {
    commands.add(
      "gemm",
      [0, 1, 4, bias ? 2 : null, residual ? 3 : null],
      gemmParams({ m: rows, n: outFeatures, k: inFeatures }),
    );
  }
  return {
    reads: ["x", "weight", "bias", "residual"],
    outputs: [{ shape: [...x.shape.slice(0, -1), outFeatures] }],
    commands: commands.finish(),
  };
};

export function nativeFusedForwardConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(addon, previous, {
    [FUSED_CONV]: convolution,
    [FUSED_CONV_ADD]: convolution,
    [FUSED_LINEAR]: linear,
    [FUSED_LINEAR_RESIDUAL]: linear,
  });
}
