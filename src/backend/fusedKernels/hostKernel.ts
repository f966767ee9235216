/**
 * A kernel written once in plain JavaScript over Float32Arrays, registered for the two CPU
 * backends: on wasm its inputs are read straight from the wasm heap and its outputs written into
 * fresh heap buffers (no copies); on cpu, the backend's own arrays. One call is one tfjs kernel,
 * however many tensors it reads and writes (a multi-tensor optimizer update, a fused norm).
 */
import {
  registerKernel,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

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

/** How a backend hands its memory to a host kernel. */
interface HostMemory {
  read(input: TensorInfo): Float32Array;
  /** Allocates every output, then returns their writable arrays (and the infos to return). */
  allocate(shapes: number[][]): { infos: () => TensorInfo[]; arrays: Float32Array[] };
}

function wasmMemory(backend: WasmBackend): HostMemory {
  return {
    read: (t) => backend.typedArrayFromHeap(t),
    allocate(shapes) {
      // Every output before any heap view: an allocation may grow (and move) the heap.
      const infos = shapes.map((shape) => backend.makeOutput(shape, "float32"));
      return { infos: () => infos, arrays: infos.map((t) => backend.typedArrayFromHeap(t)) };
    },
  };
}

function cpuMemory(backend: CpuBackend): HostMemory {
  return {
    read: (t) => backend.readSync(t.dataId),
    allocate(shapes) {
      const arrays = shapes.map((s) => new Float32Array(s.reduce((n, d) => n * d, 1)));
      return {
        infos: () => shapes.map((s, i) => backend.makeTensorInfo(s, "float32", arrays[i])),
        arrays,
      };
    },
  };
}

function hostKernelFunc<Attrs>(kernel: HostKernel<Attrs>, memoryOf: (b: unknown) => HostMemory) {
  return (args: { inputs: object; backend: unknown; attrs?: NamedAttrMap }) => {
    const memory = memoryOf(args.backend);
    const attrs = args.attrs as unknown as Attrs;
    const inputs = inputList(args.inputs);
    checkFloat(kernel.name, inputs);
    const outputs = memory.allocate(kernel.outputShapes(inputs, attrs));
    kernel.compute(
      inputs.map((t) => memory.read(t)),
      outputs.arrays,
      inputs.map((t) => t.shape),
      attrs,
    );
    return singleOrList(outputs.infos());
  };
}

/** `kernel` as the wasm backend's kernel (inputs and outputs on the wasm heap). */
export function wasmHostKernelConfig<Attrs>(kernel: HostKernel<Attrs>): KernelConfig {
  return {
    kernelName: kernel.name,
    backendName: "wasm",
    kernelFunc: hostKernelFunc(kernel, (b) => wasmMemory(b as WasmBackend)),
  };
}

/** Registers `kernel` for wasm and cpu. */
export function registerHostKernel<Attrs>(kernel: HostKernel<Attrs>): void {
  registerKernel(wasmHostKernelConfig(kernel));
  registerKernel({
    kernelName: kernel.name,
    backendName: "cpu",
    kernelFunc: hostKernelFunc(kernel, (b) => cpuMemory(b as CpuBackend)),
  });
}
