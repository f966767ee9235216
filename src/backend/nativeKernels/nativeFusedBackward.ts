/**
 * The backwards of fairdiff's fused dense layer and convolution (fusedKernels/fusedLinear.ts,
 * fusedConv2d.ts) on the wasm backend as native calls made straight from one kernel: dx, dW and
 * the bias gradient (a product with ones, as the composition sums) without the ~10 wasm kernels
 * (reshapes, scalar fills, products) the composition dispatches around them. The same products
 * with the same parameters as the composition's, so the same floats. Non-float32 inputs go to
 * the composed kernels registered before.
 */
import { util, type KernelConfig } from "@tensorflow/tfjs-core";
import { allFloat32 } from "../backendScope";
import { convolutionAttrs, FUSED_CONV_GRAD, type ConvAttrs } from "../fusedKernels/fusedConv2d";
import { FUSED_LINEAR_GRAD, rowsOf } from "../fusedKernels/fusedLinear";
import { heapKernelsOver, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { CommandWriter } from "./nativeCommands";
import { convInfo, convParams } from "./nativeConv";
import { gemmParams } from "./nativeMatMul";

const linearBackward: HeapPlanner = ({ dy, x, weight }, attrs) => {
  if (!dy || !x || !weight || !allFloat32([dy, x, weight])) return undefined;
  const { residual } = attrs as unknown as { residual: boolean };
  const [inFeatures, outFeatures] = weight.shape;
  const rows = rowsOf(x.shape);
  // Arrays: dy 0, x 1, weight 2; dx 3, dW 4, db 5.
  const commands = new CommandWriter();
  if (rows * inFeatures > 0) {
    commands.add(
      "gemm",
      [0, 2, 3, null, null],
      gemmParams({ m: rows, n: inFeatures, k: outFeatures, transposeB: true }),
    );
  }
  if (inFeatures * outFeatures > 0) {
    commands.add(
      "gemm",
      [1, 0, 4, null, null],
      gemmParams({ m: inFeatures, n: outFeatures, k: rows, transposeA: true }),
    );
    commands.add("columnSums", [0, 5], [1, rows, outFeatures, 0]);
  }
  return {
    reads: ["dy", "x", "weight"],
    outputs: [
      { shape: x.shape },
      { shape: weight.shape },
      { shape: [outFeatures] },
      // A residual's gradient is dy itself.
      ...(residual ? [{ input: 0 }] : []),
    ],
    commands: commands.finish(),
  };
};

const convolutionBackward: HeapPlanner = ({ dy, x, filter }, attrs) => {
  if (!dy || !x || !filter || !allFloat32([dy, x, filter])) return undefined;
  const a = attrs as unknown as ConvAttrs;
  const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), false);
  const shape = convParams(info, 0).subarray(0, 15);
  const [n, height, width, channels] = dy.shape;
  const pixels = height * width;
  const shift = a.addend === "shift";
  // Arrays: dy 0, x 1, filter 2; dx 3, dFilter 4, dBias 5, then the shift's per-image sums
  // (after dy itself, a residual's gradient, where there is one).
  const perSample = a.addend === "residual" ? 7 : 6;
  const commands = new CommandWriter();
  if (util.sizeFromShape(x.shape) > 0) commands.add("convBackpropInput", [0, 2, 3], shape);
  if (util.sizeFromShape(info.outShape) === 0) {
    commands.add("fill", [4], [util.sizeFromShape(filter.shape)], [0]);
    commands.add("fill", [5], [channels], [0]);
    if (shift) commands.add("fill", [perSample], [n * channels], [0]);
  } else {
    commands.add("convBackpropFilter", [1, 0, 4], shape);
    if (shift) {
      commands.add("columnSums", [0, perSample], [n, pixels, channels, pixels * channels]);
      commands.add("columnSums", [perSample, 5], [1, n, channels, 0]);
    } else {
      commands.add("columnSums", [0, 5], [1, n * pixels, channels, 0]);
    }
  }
  return {
    reads: ["dy", "x", "filter"],
    outputs: [
      { shape: x.shape },
      { shape: filter.shape },
      { shape: [channels] },
      ...(a.addend === "residual" ? [{ input: 0 }] : []),
      ...(shift ? [{ shape: [n, channels] }] : []),
    ],
    commands: commands.finish(),
  };
};

export function nativeFusedBackwardConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(addon, previous, {
    [FUSED_LINEAR_GRAD]: linearBackward,
    [FUSED_CONV_GRAD]: convolutionBackward,
  });
}
