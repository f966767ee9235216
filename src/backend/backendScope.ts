/**
 * Composition helpers for kernels built from other kernels of the same backend (wasm, cpu or
 * webgpu): call a registered kernel directly (no tape, no engine bookkeeping, no per-kernel
 * dispatch cost in the engine) inside a scope that frees every intermediate. Each kernel output
 * holds one reference (even a Reshape that shares its input's buffer), so each is released
 * exactly once.
 */
import {
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

export type WasmBackendLike = KernelBackend & {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: TensorInfo["dtype"]): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
};

/** Whether every tensor given (absent optional inputs skipped) is float32: the native kernels' type. */
export function allFloat32(tensors: ({ dtype: TensorInfo["dtype"] } | undefined)[]): boolean {
  return tensors.every((t) => !t || t.dtype === "float32");
}

/** A float32 tensor's values where tfjs-wasm keeps them: a view on the wasm heap (no copy). */
export function heapFloats(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Where a tensor's buffer starts on the wasm heap, in bytes. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(
    readonly backend: KernelBackend & { disposeData(dataId: object, force?: boolean): boolean },
    readonly backendName: "wasm" | "cpu" | "webgpu" = "wasm",
  ) {}

  /** A scope over the backend a kernel function was handed (typed `unknown` by tfjs's args). */
  static of(backend: unknown, backendName: "wasm" | "cpu" | "webgpu"): KernelScope {
    return new KernelScope(backend as KernelScope["backend"], backendName);
  }

  /** Runs a wasm kernel; its output is freed when the scope closes unless returned by `close`. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    const config = getKernel(kernelName, this.backendName);
    if (!config) throw new Error(`${this.backendName} backend has no ${kernelName} kernel`);
    const out = config.kernelFunc({
      inputs,
      backend: this.backend,
      attrs: attrs as NamedAttrMap,
    });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
    this.owned.push(out);
    return out;
  }

  /** A float32 scalar constant, freed with the scope. */
  scalar(value: number): TensorInfo {
    return this.fill([], value);
  }

  /** A float32 tensor of `shape` holding `value` everywhere, freed with the scope. */
  fill(shape: number[], value: number): TensorInfo {
    return this.host(shape, (out) => out.fill(value));
  }

  /**
   * A float32 tensor of `shape` written by `write` on the host (the wasm heap, or the cpu
   * backend's array), freed with the scope. On wasm, `write` may read other tensors' heap views:
   * the output is allocated before it runs (an allocation can move the heap).
   */
  host(shape: number[], write: (out: Float32Array) => void): TensorInfo {
    const backend = this.backend as unknown as {
      makeOutput?: (shape: number[], dtype: "float32") => TensorInfo;
      typedArrayFromHeap?: (info: TensorInfo) => Float32Array;
      makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
    };
    let out: TensorInfo;
    if (backend.makeOutput && backend.typedArrayFromHeap) {
      out = backend.makeOutput(shape, "float32");
      write(backend.typedArrayFromHeap(out));
    } else {
      const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
      write(values);
      out = backend.makeTensorInfo(shape, "float32", values);
    }
    this.owned.push(out);
    return out;
  }

  /**
   * Σ over the rows of t viewed as [groups, rows, columns] → [groups, 1, columns], as a product
   * with ones[1, rows]: tfjs-wasm's Sum over a leading axis transposes first and was up to 40×
   * slower than this product at [4096, 256].
   */
  sumRows(t: TensorInfo, groups: number, rows: number, columns: number): TensorInfo {
    return this.run(
      "BatchMatMul",
      { a: this.fill([1, 1, rows], 1), b: this.reshape(t, [groups, rows, columns]) },
      { transposeA: false, transposeB: false },
    );
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run("Reshape", { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run("Transpose", { x }, { perm });
  }

  /** Frees every intermediate except `result`, which the caller now owns. */
  close(result: TensorInfo): TensorInfo {
    return this.closeKeeping([result])[0];
  }

  /** Frees every intermediate except `results`, which the caller now owns. */
  closeKeeping(results: TensorInfo[]): TensorInfo[] {
    for (const info of this.owned) {
      if (!results.includes(info)) this.backend.disposeData(info.dataId);
    }
    this.owned.length = 0;
    return results;
  }
}
