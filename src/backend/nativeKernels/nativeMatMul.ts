/**
 * BatchMatMul and _FusedMatMul on the wasm backend through the native matrix product: operands
 * read in place on the wasm heap, transposes handled by the product's packing (no Transpose
 * pass), bias and ReLU applied as the result is written. Shapes or options the native product
 * does not cover (non-float32, batch shapes broadcast both ways, other activations) go to the
 * kernel registered before.
 */
import {
  backend_util,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { heapFloats, type WasmBackendLike } from "../backendScope";
import type { NativeAddon } from "./nativeAddon";

/** The activation codes native/src/gemm.h knows. */
export const NATIVE_ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1 };

/** A product as native/src/gemm.h's parameters describe it (absent: 1 image, no transpose). */
export interface ProductShape {
  batch?: number;
  m: number;
  n: number;
  k: number;
  transposeA?: boolean;
  transposeB?: boolean;
  /** Elements between one image's A (B) and the next; 0: one A (B) shared by every image. */
  strideA?: number;
  strideB?: number;
  /** NATIVE_ACTIVATIONS' code, applied with the bias. */
  activation?: number;
}

/** The Int32Array `addon.gemm` takes. */
export function gemmParams(p: ProductShape): Int32Array {
  return Int32Array.of(
    p.batch ?? 1,
    p.m,
    p.n,
    p.k,
    p.transposeA ? 1 : 0,
    p.transposeB ? 1 : 0,
    p.strideA ?? 0,
    p.strideB ?? 0,
    p.activation ?? 0,
  );
}

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
}

/** The batch (outer) shape of a product, or undefined when only one side may broadcast. */
function outerShape(a: number[], b: number[]): number[] | undefined {
  const sizeA = util.sizeFromShape(a);
  const sizeB = util.sizeFromShape(b);
  const shape = backend_util.assertAndGetBroadcastShape(a, b);
  if (sizeA === 1 || sizeB === 1) return shape;
  return util.sizeFromShape(shape) === sizeA && sizeA === sizeB && util.arraysEqual(a, b)
    ? shape
    : undefined;
}

function nativeProduct(addon: NativeAddon, fallback: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo>;
    const { transposeA, transposeB, activation = "linear" } = args.attrs as unknown as MatMulAttrs;
    const backend = args.backend as WasmBackendLike;
    const code = NATIVE_ACTIVATIONS[activation];
    const rankA = a.shape.length;
    const rankB = b.shape.length;
    const m = transposeA ? a.shape[rankA - 1] : a.shape[rankA - 2];
    const k = transposeA ? a.shape[rankA - 2] : a.shape[rankA - 1];
    const n = transposeB ? b.shape[rankB - 2] : b.shape[rankB - 1];
    const outer = outerShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const biasFits =
      !bias || (util.sizeFromShape(bias.shape) === n && bias.shape[bias.shape.length - 1] === n);
    if (
      a.dtype !== "float32" ||
      b.dtype !== "float32" ||
      (bias && bias.dtype !== "float32") ||
      code === undefined ||
      preluActivationWeights ||
      !biasFits ||
      !outer
    ) {
      return fallback(args);
    }
    const out = backend.makeOutput([...outer, m, n], "float32");
    const batch = util.sizeFromShape(outer);
    if (batch * m * n === 0) return out;
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    const params = gemmParams({
      batch,
      m,
      n,
      k,
      transposeA,
      transposeB,
      strideA: batchA === 1 ? 0 : m * k,
      strideB: batchB === 1 ? 0 : k * n,
      activation: fused ? code : 0,
    });
    addon.gemm(
      heapFloats(backend, a),
      heapFloats(backend, b),
      heapFloats(backend, out),
      fused && bias ? heapFloats(backend, bias) : null,
      params,
    );
    return out;
  };
}

export function nativeMatMulConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return [
    ["BatchMatMul", false],
    ["_FusedMatMul", true],
  ].map(([name, fused]) => {
    const before = previous(name as string);
    return {
      kernelName: name as string,
      backendName: "wasm",
      setupFunc: before.setupFunc,
      kernelFunc: nativeProduct(addon, before.kernelFunc, fused as boolean),
    };
  });
}
