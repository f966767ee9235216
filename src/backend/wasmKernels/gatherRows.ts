/**
 * GatherV2 for wasm as block copies inside the wasm heap (heapRows.ts): one copy of every outer
 * row per index. tfjs-wasm's own took 1.2 ms to gather cxr-mini's 480 token embeddings of 64
 * floats (a training step's slowest small kernel); this takes tens of µs. batchDims ≠ 0 and
 * strings go to the kernel registered before. Indices are checked as tfjs's cpu backend does.
 */
import {
  util,
  type GatherV2Attrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../backendScope";
import { copyRowsInJs, heapOf, type RowCopier } from "./heapRows";

function gatherV2(fallback: KernelFunc, copyRows: RowCopier): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    const backend = args.backend as WasmBackendLike;
    if (x.dtype === "string" || indices.dtype !== "int32" || (batchDims ?? 0) !== 0) {
      return fallback(args);
    }
    const at = util.parseAxisParam(axis, x.shape)[0];
    const axisSize = x.shape[at];
    const outer = util.sizeFromShape(x.shape.slice(0, at));
    const inner = util.sizeFromShape(x.shape.slice(at + 1));
    const count = util.sizeFromShape(indices.shape);
    const out = backend.makeOutput(
      [...x.shape.slice(0, at), ...indices.shape, ...x.shape.slice(at + 1)],
      x.dtype,
    );
    if (count === 0 || outer * inner === 0) return out;
    // Views only now: allocating the output can move the heap.
    const positions = backend.typedArrayFromHeap(indices);
    for (const index of positions) {
      if (index < 0 || index >= axisSize) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${index} is not in [0, ${axisSize - 1}]`);
      }
    }
    const { heap, starts } = heapOf(backend, [x, out]);
    for (let i = 0; i < count; i++) {
      copyRows(
        heap,
        outer,
        inner,
        { start: starts[0] + positions[i] * inner, stride: axisSize * inner },
        { start: starts[1] + i * inner, stride: count * inner },
      );
    }
    return out;
  };
}

/** GatherV2 over the kernel before it, copying with `copyRows`. */
export function gatherConfig(
  before: KernelConfig,
  copyRows: RowCopier = copyRowsInJs,
): KernelConfig {
  return {
    kernelName: "GatherV2",
    backendName: "wasm",
    kernelFunc: gatherV2(before.kernelFunc, copyRows),
  };
}
