/**
 * Concat and SplitV for wasm as block copies inside the wasm heap (heapRows.ts). tfjs-wasm's own
 * copy one row at a time through a new typed-array view per row and input: a UNet skip
 * connection at batch 32 on 8×8 latents makes 4,096 views per concat (and as many in its
 * gradient's split) — ~2 MB of garbage a training step. Strings go to the kernel registered
 * before.
 */
import {
  backend_util,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../backendScope";
import { copyRowsInJs, heapOf, type RowCopier } from "./heapRows";

function concat(fallback: KernelFunc, copyRows: RowCopier): KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const backend = args.backend as WasmBackendLike;
    if (inputs[0].dtype === "string") return fallback(args);
    const axis = util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0].shape)[0];
    backend_util.assertParamsConsistent(
      inputs.map((t) => t.shape),
      axis,
    );
    const outShape = backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      axis,
    );
    const parts = inputs.filter((t) => util.sizeFromShape(t.shape) > 0);
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    if (parts.length === 0) return out;
    const rows = util.sizeFromShape(outShape.slice(0, axis));
    const widths = parts.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    const outWidth = widths.reduce((a, b) => a + b, 0);
    const { heap, starts } = heapOf(backend, [out, ...parts]);
    let column = 0;
    parts.forEach((_, i) => {
      copyRows(
        heap,
        rows,
        widths[i],
        { start: starts[i + 1], stride: widths[i] },
        { start: starts[0] + column, stride: outWidth },
      );
      column += widths[i];
    });
    return out;
  };
}

function splitV(fallback: KernelFunc, copyRows: RowCopier): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as WasmBackendLike;
    if (x.dtype === "string") return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const at = util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, at);
    const rows = util.sizeFromShape(x.shape.slice(0, at));
    const inner = util.sizeFromShape(x.shape.slice(at + 1));
    const outs = sizes.map((s) => {
      const shape = x.shape.slice();
      shape[at] = s;
      return backend.makeOutput(shape, x.dtype);
    });
    if (util.sizeFromShape(x.shape) === 0) return outs;
    const { heap, starts } = heapOf(backend, [x, ...outs]);
    let offset = 0;
    sizes.forEach((s, i) => {
      if (s * rows * inner > 0) {
        copyRows(
          heap,
          rows,
          s * inner,
          { start: starts[0] + offset, stride: x.shape[at] * inner },
          { start: starts[i + 1], stride: s * inner },
        );
      }
      offset += s * inner;
    });
    return outs;
  };
}

/** Concat and SplitV over the kernels before them (kept for strings), copying with `copyRows`. */
export function concatSplitConfigs(
  before: { concat: KernelConfig; splitV: KernelConfig },
  copyRows: RowCopier = copyRowsInJs,
): KernelConfig[] {
  return [
    {
      kernelName: "Concat",
      backendName: "wasm",
      kernelFunc: concat(before.concat.kernelFunc, copyRows),
    },
    {
      kernelName: "SplitV",
      backendName: "wasm",
      kernelFunc: splitV(before.splitV.kernelFunc, copyRows),
    },
  ];
}
