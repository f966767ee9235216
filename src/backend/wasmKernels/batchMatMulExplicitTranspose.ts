/**
 * BatchMatMul for wasm with transposed operands made explicit. The stock kernel handles
 * transposeA/transposeB by strided reads that defeat its blocking (4–10× slower); tfjs's own
 * matMul gradients always ask for transposes. A Transpose pass first is far cheaper.
 */
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope, type WasmBackendLike } from "../backendScope";

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

export function batchMatMulExplicitTransposeConfig(stock: KernelConfig): KernelConfig {
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
      if (!transposeA && !transposeB) return stock.kernelFunc(args);
      const backend = args.backend as WasmBackendLike;
      const scope = new KernelScope(backend);
      const aPlain = transposeA ? scope.transpose(a, swapLastTwo(a.shape.length)) : a;
      const bPlain = transposeB ? scope.transpose(b, swapLastTwo(b.shape.length)) : b;
      const out = stock.kernelFunc({
        inputs: { a: aPlain, b: bPlain },
        backend,
        attrs: { transposeA: false, transposeB: false },
      }) as TensorInfo;
      scope.close(out);
      return out;
    },
  };
}
