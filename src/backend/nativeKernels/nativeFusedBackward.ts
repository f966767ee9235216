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
import { convInfo, convParams } from "./nativeConv";
import { gemmParams } from "./nativeMatMul";

const ones = (n: number) => new Float32Array(n).fill(1);

function linearBackward(addon: NativeAddon): HeapPlanner {
  return ({ dy, x, weight }, attrs) => {
    if (!dy || !x || !weight || !allFloat32([dy, x, weight])) return undefined;
    const { residual } = attrs as unknown as { residual: boolean };
    const [inFeatures, outFeatures] = weight.shape;
    const rows = rowsOf(x.shape);
    const dxParams = gemmParams({ m: rows, n: inFeatures, k: outFeatures, transposeB: true });
    const dWParams = gemmParams({ m: inFeatures, n: outFeatures, k: rows, transposeA: true });
    const dbParams = gemmParams({ m: 1, n: outFeatures, k: rows });
    const column = ones(rows);
    return {
      reads: ["dy", "x", "weight"],
      outputs: [
        { shape: x.shape },
        { shape: weight.shape },
        { shape: [outFeatures] },
        // A residual's gradient is dy itself.
        ...(residual ? [{ input: 0 }] : []),
      ],
      run([dys, xs, weights], [dx, dW, db]) {
        const d = dys as Float32Array;
        if (rows * inFeatures > 0) addon.gemm(d, weights as Float32Array, dx, null, dxParams);
        if (inFeatures * outFeatures > 0) {
          addon.gemm(xs as Float32Array, d, dW, null, dWParams);
          addon.gemm(column, d, db, null, dbParams);
        }
      },
    };
  };
}

function convolutionBackward(addon: NativeAddon): HeapPlanner {
  return ({ dy, x, filter }, attrs) => {
    if (!dy || !x || !filter || !allFloat32([dy, x, filter])) return undefined;
    const a = attrs as unknown as ConvAttrs;
    const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), false);
    const params = convParams(info, 0);
    const [n, height, width, channels] = dy.shape;
    const pixels = height * width;
    const column = ones(n * pixels);
    const shift = a.addend === "shift";
    const perSampleParams = gemmParams({
      batch: n,
      m: 1,
      n: channels,
      k: pixels,
      strideB: pixels * channels,
    });
    const biasParams = gemmParams({ m: 1, n: channels, k: shift ? n : n * pixels });
    const emptyInput = util.sizeFromShape(x.shape) === 0;
    const emptyOutput = util.sizeFromShape(info.outShape) === 0;
    return {
      reads: ["dy", "x", "filter"],
      outputs: [
        { shape: x.shape },
        { shape: filter.shape },
        { shape: [channels] },
        ...(a.addend === "residual" ? [{ input: 0 }] : []),
        ...(shift ? [{ shape: [n, channels] }] : []),
      ],
      run([dys, xs, filters], [dx, dFilter, dBias, perSample]) {
        const d = dys as Float32Array;
        if (!emptyInput) addon.convBackpropInput(d, filters as Float32Array, dx, params);
        if (emptyOutput) {
          dFilter.fill(0);
          dBias.fill(0);
          if (shift) perSample.fill(0);
          return;
        }
        addon.convBackpropFilter(xs as Float32Array, d, dFilter, params);
        if (!shift) {
          addon.gemm(column, d, dBias, null, biasParams);
          return;
        }
        addon.gemm(column, d, perSample, null, perSampleParams);
        addon.gemm(column, perSample, dBias, null, biasParams);
      },
    };
  };
}

export function nativeFusedBackwardConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(previous, {
    [FUSED_LINEAR_GRAD]: linearBackward(addon),
    [FUSED_CONV_GRAD]: convolutionBackward(addon),
  });
}
