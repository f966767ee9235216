/**
 * The backwards of fairdiff's fused dense layer and convolution (fusedKernels/fusedLinear.ts,
 * fusedConv2d.ts) on the wasm backend as native calls made straight from one kernel: dx, dW and
 * the bias gradient (a product with ones, as the composition sums) without the ~10 wasm kernels
 * (reshapes, scalar fills, products) the composition dispatches around them. The same products
 * with the same parameters as the composition's, so the same floats. Non-float32 inputs go to
 * the composed kernels registered before.
 */
import type { KernelConfig } from "@tensorflow/tfjs-core";
import { convolutionAttrs, FUSED_CONV_GRAD, type ConvAttrs } from "../fusedKernels/fusedConv2d";
import { FUSED_LINEAR_GRAD, rowsOf } from "../fusedKernels/fusedLinear";
import { allFloat32Inputs, heapKernelsOver, sizeOf, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { convInfo, convParams } from "./nativeConv";

/** native/src/gemm.h's parameters: [batch, m, n, k, transposeA, transposeB, strideA, strideB, 0]. */
function productParams(
  batch: number,
  m: number,
  n: number,
  k: number,
  transpose: "a" | "b" | "none",
  strideB = 0,
): Int32Array {
  return Int32Array.of(
    batch,
    m,
    n,
    k,
    transpose === "a" ? 1 : 0,
    transpose === "b" ? 1 : 0,
    0,
    strideB,
    0,
  );
}

const ones = (n: number) => new Float32Array(n).fill(1);

function linearBackward(addon: NativeAddon): HeapPlanner {
  return ({ dy, x, weight }, attrs) => {
    if (!dy || !x || !weight || !allFloat32Inputs([dy, x, weight])) return undefined;
    const { residual } = attrs as unknown as { residual: boolean };
    const [inFeatures, outFeatures] = weight.shape;
    const rows = rowsOf(x.shape);
    const dxParams = productParams(1, rows, inFeatures, outFeatures, "b");
    const dWParams = productParams(1, inFeatures, outFeatures, rows, "a");
    const dbParams = productParams(1, 1, outFeatures, rows, "none");
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
    if (!dy || !x || !filter || !allFloat32Inputs([dy, x, filter])) return undefined;
    const a = attrs as unknown as ConvAttrs;
    const info = convInfo(x.shape, filter.shape, convolutionAttrs(a.stride), false);
    const params = convParams(info, 0);
    const [n, height, width, channels] = dy.shape;
    const pixels = height * width;
    const column = ones(n * pixels);
    const shift = a.addend === "shift";
    const perSampleParams = productParams(n, 1, channels, pixels, "none", pixels * channels);
    const biasParams = productParams(1, 1, channels, shift ? n : n * pixels, "none");
    const emptyInput = sizeOf(x.shape) === 0;
    const emptyOutput = sizeOf(info.outShape) === 0;
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
