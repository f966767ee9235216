/**
 * Block copies inside the wasm heap, for the kernels that only move data (Concat, SplitV,
 * GatherV2): one view of the whole heap and element offsets into it, instead of a typed-array
 * view per row. The copy itself is pluggable: JavaScript's copyWithin here, the native kernels'
 * memmove when they load (a UNet skip connection at batch 32 copies 4,096 rows).
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { WasmBackendLike } from "../backendScope";

/** Where a run of rows starts in the heap (in elements) and how far apart the rows are. */
export interface Rows {
  start: number;
  stride: number;
}

/** Copies `rows` blocks of `width` elements within `heap`, `from` → `to`. */
export type RowCopier = (
  heap: Float32Array,
  rows: number,
  width: number,
  from: Rows,
  to: Rows,
) => void;

export const copyRowsInJs: RowCopier = (heap, rows, width, from, to) => {
  for (let r = 0; r < rows; r++) {
    const src = from.start + r * from.stride;
    heap.copyWithin(to.start + r * to.stride, src, src + width);
  }
};

/**
 * One view of the whole heap in the tensors' element type, and where each tensor starts in it.
 * Take it after every output is allocated: an allocation can move the heap.
 */
export function heapOf(backend: WasmBackendLike, tensors: TensorInfo[]) {
  const views = tensors.map((t) => backend.typedArrayFromHeap(t));
  const first = views[0];
  const Elements = first.constructor as Float32ArrayConstructor;
  const heap = new Elements(first.buffer);
  return { heap, starts: views.map((v) => v.byteOffset / Elements.BYTES_PER_ELEMENT) };
}
