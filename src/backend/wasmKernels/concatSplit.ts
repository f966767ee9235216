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

/** Where each of blocks `widths` wide starts when laid side by side. */
function startsOf(widths: number[]): number[] {
  const starts: number[] = [];
  let start = 0;
  for (const width of widths) {
    starts.push(start);
    start += width;
  }
  return starts;
}

/** A concat as row blocks: `rows` rows, input i's block `widths[i]` wide at `columns[i]`. */
export interface ConcatLayout {
  outShape: number[];
  rows: number;
  widths: number[];
  columns: number[];
  outWidth: number;
}

export function concatLayout(shapes: number[][], axisAttr: number): ConcatLayout {
  const axis = util.parseAxisParam(axisAttr, shapes[0])[0];
  backend_util.assertParamsConsistent(shapes, axis);
  const outShape = backend_util.computeOutShape(shapes, axis);
  const widths = shapes.map((shape) => util.sizeFromShape(shape.slice(axis)));
  const outWidth = widths.reduce((a, b) => a + b, 0);
  const rows = util.sizeFromShape(outShape.slice(0, axis));
  return { outShape, rows, widths, columns: startsOf(widths), outWidth };
}

/** A split as row blocks: output i is `rows` blocks `widths[i]` wide from `columns[i]` of x's. */
export interface SplitLayout {
  shapes: number[][];
  rows: number;
  widths: number[];
  columns: number[];
  inWidth: number;
}

export function splitLayout(
  shape: number[],
  numOrSizeSplits: number | number[],
  axisAttr: number,
): SplitLayout {
  const axis = util.parseAxisParam(axisAttr, shape)[0];
  const sizes = backend_util.prepareSplitSize({ shape } as TensorInfo, numOrSizeSplits, axis);
  const inner = util.sizeFromShape(shape.slice(axis + 1));
  const widths = sizes.map((s) => s * inner);
  return {
    shapes: sizes.map((s) => shape.map((d, i) => (i === axis ? s : d))),
    rows: util.sizeFromShape(shape.slice(0, axis)),
    widths,
    columns: startsOf(widths),
    inWidth: shape[axis] * inner,
  };
}

function concat(fallback: KernelFunc, copyRows: RowCopier): KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    const backend = args.backend as WasmBackendLike;
    if (inputs[0].dtype === "string") return fallback(args);
    const layout = concatLayout(
      inputs.map((t) => t.shape),
      (args.attrs as { axis: number }).axis,
    );
    const out = backend.makeOutput(layout.outShape, inputs[0].dtype);
    if (util.sizeFromShape(layout.outShape) === 0) return out;
    const { heap, starts } = heapOf(backend, [out, ...inputs]);
    inputs.forEach((_, i) => {
      if (layout.widths[i] === 0) return;
      copyRows(
        heap,
        layout.rows,
        layout.widths[i],
        { start: starts[i + 1], stride: layout.widths[i] },
        { start: starts[0] + layout.columns[i], stride: layout.outWidth },
      );
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
    const layout = splitLayout(x.shape, numOrSizeSplits, axis);
    const outs = layout.shapes.map((shape) => backend.makeOutput(shape, x.dtype));
    if (util.sizeFromShape(x.shape) === 0) return outs;
    const { heap, starts } = heapOf(backend, [x, ...outs]);
    layout.widths.forEach((width, i) => {
      if (width === 0) return;
      copyRows(
        heap,
        layout.rows,
        width,
        { start: starts[0] + layout.columns[i], stride: layout.inWidth },
        { start: starts[i + 1], stride: width },
      );
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
