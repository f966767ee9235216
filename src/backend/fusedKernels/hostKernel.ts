/**
 * A kernel written once in plain JavaScript over Float32Arrays, registered for the two CPU
 * backends: on wasm its inputs are read straight from the wasm heap and its outputs written into
 * fresh heap buffers (no copies); on cpu, the backend's own arrays. One call is one tfjs kernel,
 * however many tensors it reads and writes (a multi-tensor optimizer update, a fused norm).
 */
import { registerKernel, type NamedAttrMap, type TensorInfo } from "@tensorflow/tfjs-core";

export interface HostKernel<Attrs> {
  name: string;
  /** The shapes of the outputs, from the inputs' shapes. */
  outputShapes(inputs: TensorInfo[], attrs: Attrs): number[][];
  /** Fills `outputs` (zeroed, float32) from `inputs`. */
  compute(inputs: Float32Array[], outputs: Float32Array[], shapes: number[][], attrs: Attrs): void;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

interface CpuBackend {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
}

const inputList = (inputs: object) => Object.values(inputs) as TensorInfo[];

/** The engine returns a list for a list: a one-output kernel returns its tensor alone. */
const singleOrList = (outputs: TensorInfo[]) => (outputs.length === 1 ? outputs[0] : outputs);

function checkFloat(kernel: string, inputs: TensorInfo[]): void {
  const other = inputs.find((t) => t.dtype !== "float32");
  if (other) throw new Error(`${kernel}: float32 inputs only, got ${other.dtype}`);
}

function wasmKernel<Attrs>(kernel: HostKernel<Attrs>) {
  return (args: { inputs: object; backend: unknown; attrs?: NamedAttrMap }) => {
    const backend = args.backend as unknown as WasmBackend;
    const attrs = args.attrs as unknown as Attrs;
    const inputs = inputList(args.inputs);
    checkFloat(kernel.name, inputs);
    // Allocate every output before taking heap views: an allocation may grow (and move) the heap.
    const outputs = kernel
      .outputShapes(inputs, attrs)
      .map((shape) => backend.makeOutput(shape, "float32"));
    kernel.compute(
      inputs.map((t) => backend.typedArrayFromHeap(t)),
      outputs.map((t) => backend.typedArrayFromHeap(t)),
      inputs.map((t) => t.shape),
      attrs,
    );
    return singleOrList(outputs);
  };
}

function cpuKernel<Attrs>(kernel: HostKernel<Attrs>) {
  return (args: { inputs: object; backend: unknown; attrs?: NamedAttrMap }) => {
    const backend = args.backend as unknown as CpuBackend;
    const attrs = args.attrs as unknown as Attrs;
    const inputs = inputList(args.inputs);
    checkFloat(kernel.name, inputs);
    const shapes = kernel.outputShapes(inputs, attrs);
    const values = shapes.map((s) => new Float32Array(s.reduce((n, d) => n * d, 1)));
    kernel.compute(
      inputs.map((t) => backend.readSync(t.dataId)),
      values,
      inputs.map((t) => t.shape),
      attrs,
    );
    return singleOrList(shapes.map((s, i) => backend.makeTensorInfo(s, "float32", values[i])));
  };
}

/** Registers `kernel` for wasm and cpu. */
export function registerHostKernel<Attrs>(kernel: HostKernel<Attrs>): void {
  registerKernel({ kernelName: kernel.name, backendName: "wasm", kernelFunc: wasmKernel(kernel) });
  registerKernel({ kernelName: kernel.name, backendName: "cpu", kernelFunc: cpuKernel(kernel) });
}
