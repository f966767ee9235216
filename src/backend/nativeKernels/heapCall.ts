/**
 * A native kernel as a plan: from its inputs' shapes and its attributes alone, the inputs it
 * reads, the outputs it writes and the native commands (nativeCommands.ts) that do the work. The
 * kernel function tfjs runs is built from it (allocate the outputs, run the commands on their
 * buffers), and kernel replay (wasmHeapReplay.ts) plans each instruction once and then runs a
 * whole run of planned kernels' commands in one native call: no tensor bookkeeping, no attribute
 * parsing, no JavaScript between kernels.
 */
import {
  util,
  type DataType,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { heapOffset, type WasmBackendLike } from "../backendScope";
import type { NativeAddon } from "./nativeAddon";

/** What a plan needs of a tensor: its shape and dtype (no data). */
export interface ShapeInfo {
  shape: number[];
  dtype: DataType;
}

/** A fresh float32 output of `shape`, or input `input` (an index into `reads`) as it is. */
export type HeapOutput = { shape: number[] } | { input: number };

export interface HeapCall {
  /** The inputs the commands read, by name, in its order (an absent optional input is null). */
  reads: string[];
  outputs: HeapOutput[];
  /**
   * Writes every fresh output (uninitialised before them); an input output is left alone. Array
   * i < reads.length is read i, and reads.length + j output j.
   */
  commands: Int32Array;
}
/** The call for these inputs, or undefined where the native kernel does not cover them. */
export type HeapPlanner = (
  inputs: Record<string, ShapeInfo | undefined>,
  attrs: NamedAttrMap,
) => HeapCall | undefined;

export interface HeapKernelConfig extends KernelConfig {
  planHeapCall: HeapPlanner;
}

export function isHeapKernel(config: KernelConfig): config is HeapKernelConfig {
  return typeof (config as Partial<HeapKernelConfig>).planHeapCall === "function";
}

/**
 * The wasm kernel for `plan`, run by `addon`: inputs the plan does not cover go to `fallback`
 * (the kernel it replaces); without one they are an error.
 */
export function heapKernelConfig(
  addon: NativeAddon,
  kernelName: string,
  plan: HeapPlanner,
  fallback?: KernelFunc,
): HeapKernelConfig {
  const plans = new PlanCache(plan);
  const kernelFunc: KernelFunc = (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const call = plans.get(inputs, args.attrs ?? {});
    if (!call) {
      if (fallback) return fallback(args);
      throw new Error(`${kernelName}: the native kernel takes float32 inputs only`);
    }
    const backend = args.backend as WasmBackendLike;
    const read = call.reads.map((name) => inputs[name]);
    // Every output before the heap is read: an allocation can move it.
    const outputs = call.outputs.map((o) =>
      "shape" in o ? backend.makeOutput(o.shape, "float32") : shareOf(backend, read[o.input]),
    );
    const table = new Int32Array(2 * (read.length + outputs.length));
    [...read, ...outputs].forEach((t, i) => {
      if (!t) return;
      table[2 * i] = heapOffset(backend, t);
      table[2 * i + 1] = util.sizeFromShape(t.shape);
    });
    // An empty output (or input) leaves no work.
    const { commands } = call;
    if (commands.length > 0)
      addon.runCommands(backend.wasm.HEAPU8, table, commands, 0, commands.length);
    return outputs.length === 1 ? outputs[0] : outputs;
  };
  return { kernelName, backendName: "wasm", kernelFunc, planHeapCall: plan };
}

/**
 * Native kernels over the wasm kernels they replace (`previous(name)`), each falling back to
 * the one it replaces where its plan does not cover the inputs (with that one's set-up: tfjs-wasm
 * binds its wasm functions there).
 */
export function heapKernelsOver(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
  plans: Record<string, HeapPlanner>,
): HeapKernelConfig[] {
  return Object.entries(plans).map(([name, plan]) => {
    const before = previous(name);
    return {
      ...heapKernelConfig(addon, name, plan, before.kernelFunc),
      setupFunc: before.setupFunc,
    };
  });
}

/**
 * A planner's calls by the inputs' shapes and dtypes and the attributes: an eager small kernel
 * (a scalar product, a bias add) costs less than planning it again would (~5 µs and its garbage).
 */
class PlanCache {
  private static readonly LIMIT = 256;
  private readonly calls = new Map<string, HeapCall | undefined>();

  constructor(private readonly plan: HeapPlanner) {}

  get(inputs: Record<string, ShapeInfo | undefined>, attrs: NamedAttrMap): HeapCall | undefined {
    let key = JSON.stringify(attrs);
    for (const name in inputs) {
      const t = inputs[name];
      key += t ? `|${name}:${t.dtype}[${t.shape.join(",")}]` : `|${name}:-`;
    }
    if (this.calls.has(key)) return this.calls.get(key);
    const call = this.plan(inputs, attrs);
    if (this.calls.size >= PlanCache.LIMIT) this.calls.clear();
    this.calls.set(key, call);
    return call;
  }
}

/** An output that is an input: one more reference to its buffer (as a Reshape makes). */
function shareOf(backend: WasmBackendLike, t: TensorInfo | undefined): TensorInfo {
  if (!t) throw new Error("a native kernel's output names an absent input");
  backend.incRef(t.dataId);
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
}
