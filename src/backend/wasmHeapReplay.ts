/**
 * Kernel replay on the wasm heap: a recorded step (kernelReplay.ts) re-run with buffers as bare
 * heap pointers. Each native kernel's call is planned once (nativeKernels/heapCall.ts) and then
 * made with views on its buffers; a Reshape is the same buffer again; an upload is a copy. Only
 * the other wasm kernels (a gradient's Add, a Concat) still see tfjs's tensor records, made for
 * the call and dropped after it. That leaves a replayed training step ~2 µs of JavaScript a
 * kernel, where the engine's records, attribute parsing and per-call parameter arrays took ~14.
 *
 * The step's results become tensors the caller owns; everything else the step made is freed
 * after its last reader, as the recording showed.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  callKernel,
  type Instruction,
  type Operand,
  type OutputSinks,
  type ReplayPlan,
} from "./replayPlan";
import { isHeapKernel, type HeapCall } from "./nativeKernels/heapCall";

interface WasmBackend extends tf.KernelBackend {
  wasm: {
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    HEAPU8: Uint8Array;
    tfjs: { disposeData(id: number): void };
  };
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number };
    delete(dataId: object): void;
  };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** A buffer as the replay holds it, shared by the slots that name it (a Reshape's). */
interface Held {
  pointer: number;
  /** Its tensor record, where it has one (a step input, a weight, a wasm kernel's output). */
  dataId?: object;
  /** Slots naming it that are still to be freed. */
  refs: number;
  /** Freed by the replay (`raw`: the heap's free; `record`: its one tensor reference), or not. */
  owner: "raw" | "record" | "bound";
  /** Its float32 view, kept for its next reader while the heap has not moved. */
  view?: Float32Array;
}

type HeapStep =
  | { kind: "upload"; bytes: Uint8Array; output: number; frees: number[] }
  | { kind: "alias"; inputs: number[]; outputs: number[]; frees: number[] }
  | {
      kind: "call";
      call: HeapCall;
      /** Per read, its slot (-1: an absent optional input) and its elements. */
      reads: number[];
      readSizes: number[];
      /** Per output, its elements (a fresh buffer), or -1 - the read it is. */
      outputSizes: number[];
      outputs: number[];
      frees: number[];
    }
  | { kind: "kernel"; instruction: Extract<Instruction, { kind: "kernel" }>; frees: number[] };

export interface HeapProgram {
  steps: HeapStep[];
  /** Instructions run as planned calls, aliases and copies (the rest go through tfjs's kernels). */
  direct: number;
}

let heapReplayEnabled = true;

/** Turns the heap path of replay on or off (on by default): off, replays run tfjs's kernels. */
export function setHeapReplay(enabled: boolean): void {
  heapReplayEnabled = enabled;
}

const programs = new WeakMap<ReplayPlan, HeapProgram>();

/** The plan as a heap program, once per plan; undefined off wasm or with the heap path off. */
export function heapProgramOf(plan: ReplayPlan): HeapProgram | undefined {
  if (!heapReplayEnabled || plan.backendName !== "wasm") return undefined;
  let program = programs.get(plan);
  if (!program) {
    program = compile(plan);
    programs.set(plan, program);
  }
  return program;
}

function compile(plan: ReplayPlan): HeapProgram {
  const steps = plan.instructions.map((instruction): HeapStep => {
    const { frees } = instruction;
    if (instruction.kind === "upload") {
      const v = instruction.values as Float32Array;
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      return { kind: "upload", bytes, output: instruction.output, frees };
    }
    const { operands, outputs, aliasOf } = instruction;
    if (outputs.length > 0 && aliasOf.every((a) => a >= 0)) {
      const inputs = aliasOf.map((a) => (operands[a] as Operand).slot);
      return { kind: "alias", inputs, outputs, frees };
    }
    const call = planned(instruction);
    if (!call) return { kind: "kernel", instruction, frees };
    const operandOf = (name: string) => operands[instruction.names.indexOf(name)];
    const reads = call.reads.map((name) => operandOf(name)?.slot ?? -1);
    const readSizes = call.reads.map((name) => {
      const operand = operandOf(name);
      return operand ? tf.util.sizeFromShape(operand.shape) : 0;
    });
    const outputSizes = call.outputs.map((o) =>
      "shape" in o ? tf.util.sizeFromShape(o.shape) : -1 - o.input,
    );
    return { kind: "call", call, reads, readSizes, outputSizes, outputs, frees };
  });
  return { steps, direct: steps.filter((step) => step.kind !== "kernel").length };
}

/** The native call an instruction makes, planned for its operands; undefined where it has none. */
function planned(instruction: Extract<Instruction, { kind: "kernel" }>): HeapCall | undefined {
  const { config, names, operands, list, outputs } = instruction;
  if (list || !isHeapKernel(config)) return undefined;
  const infos = Object.fromEntries(names.map((name, i) => [name, operands[i]]));
  const call = config.planHeapCall(infos, instruction.attrs ?? {});
  // The recording's outputs are the call's: anything else and the kernel runs as it did then.
  if (!call || call.outputs.length !== outputs.length) return undefined;
  const readable = call.reads.every((name) => {
    const operand = operands[names.indexOf(name)];
    return !operand || operand.dtype === "float32";
  });
  return readable ? call : undefined;
}

/** Runs `program` (compiled from `plan`) on `inputs`; returns the step's outputs. */
export function runHeapProgram(
  program: HeapProgram,
  plan: ReplayPlan,
  inputs: tf.Tensor[],
  sinks: OutputSinks = [],
): (tf.Tensor | undefined)[] {
  // Every sink fits its output before any work.
  sinks.forEach((sink, i) => {
    const output = plan.outputs[i];
    if (
      sink &&
      (output?.dtype !== "float32" || tf.util.sizeFromShape(output.shape) !== sink.length)
    ) {
      throw new Error(
        `replay: output ${i} is ${output?.dtype} [${output?.shape}], its sink holds ${sink.length} floats`,
      );
    }
  });
  const backend = tf.backend() as WasmBackend;
  const { wasm } = backend;
  const held: (Held | undefined)[] = new Array(plan.slotCount);
  const bind = (slot: number, dataId: object) => {
    held[slot] = {
      pointer: backend.dataIdMap.get(dataId).memoryOffset,
      dataId,
      refs: 1,
      owner: "bound",
    };
  };
  plan.inputSlots.forEach((slot, i) => bind(slot, inputs[i].dataId));
  for (const { slot, tensor } of plan.externals) bind(slot, tensor.dataId);
  const fresh = (elements: number, bytesPer = 4): Held => ({
    pointer: wasm._malloc(elements * bytesPer) >>> 0,
    refs: 1,
    owner: "raw",
  });
  const release = (h: Held) => {
    if (--h.refs > 0) return;
    if (h.owner === "raw") wasm._free(h.pointer);
    else if (h.owner === "record") backend.disposeData(h.dataId as object);
  };
  let done = false;
  try {
    for (const step of program.steps) {
      switch (step.kind) {
        case "upload": {
          const h = fresh(step.bytes.length, 1);
          wasm.HEAPU8.set(step.bytes, h.pointer);
          held[step.output] = h;
          break;
        }
        case "alias":
          step.outputs.forEach((slot, i) => {
            const h = held[step.inputs[i]] as Held;
            h.refs++;
            held[slot] = h;
          });
          break;
        case "call":
          runCall(step, held, fresh, wasm);
          break;
        case "kernel":
          runKernel(step.instruction, held, backend);
          break;
      }
      for (const slot of step.frees) {
        release(held[slot] as Held);
        held[slot] = undefined;
      }
    }
    const handed = new Set<Held>();
    const outputs = plan.outputs.map(({ slot, shape, dtype }, i) => {
      const h = held[slot] as Held;
      held[slot] = undefined;
      const sink = sinks[i];
      if (sink) {
        sink.set(new Float32Array(wasm.HEAPU8.buffer, h.pointer, sink.length));
        // A buffer an earlier output's tensor now holds stays; else it goes with its last slot.
        if (handed.has(h)) h.refs--;
        else release(h);
        return undefined;
      }
      h.refs--;
      let dataId = h.dataId;
      if (handed.has(h) || h.owner === "bound") {
        backend.incRef(dataId as object);
      } else if (h.owner === "raw") {
        // The heap buffer becomes the tensor's: freed when the caller disposes it.
        dataId = backend.makeOutput(shape, dtype, h.pointer).dataId;
        h.dataId = dataId;
        h.owner = "record";
      }
      handed.add(h);
      return tf
        .engine()
        .makeTensorFromTensorInfo({ dataId: dataId as object, shape, dtype }, backend);
    });
    done = true;
    return outputs;
  } finally {
    // A kernel that threw leaves the buffers made so far: free each once.
    if (!done)
      for (const h of new Set(held)) if (h && h.owner !== "bound") release({ ...h, refs: 1 });
  }
}

function runCall(
  step: Extract<HeapStep, { kind: "call" }>,
  held: (Held | undefined)[],
  fresh: (elements: number) => Held,
  wasm: WasmBackend["wasm"],
): void {
  const made = step.outputSizes.map((size) => {
    if (size >= 0) return fresh(size);
    const h = held[step.reads[-1 - size]] as Held;
    h.refs++;
    return h;
  });
  // Views after every allocation: one can grow (and move) the heap, detaching older views.
  const buffer = wasm.HEAPU8.buffer;
  const view = (h: Held, size: number) => {
    if (h.view?.buffer !== buffer || h.view.length !== size) {
      h.view = new Float32Array(buffer, h.pointer, size);
    }
    return h.view;
  };
  const inputs = step.reads.map((slot, i) =>
    slot < 0 ? null : view(held[slot] as Held, step.readSizes[i]),
  );
  const outputs = made.map((h, i) => {
    const size = step.outputSizes[i];
    return size >= 0 ? view(h, size) : (inputs[-1 - size] as Float32Array);
  });
  step.outputs.forEach((slot, i) => (held[slot] = made[i]));
  step.call.run(inputs, outputs);
}

/** A wasm kernel of tfjs's: bare buffers get tensor records for the call, dropped after it. */
function runKernel(
  instruction: Extract<Instruction, { kind: "kernel" }>,
  held: (Held | undefined)[],
  backend: WasmBackend,
): void {
  const temporary = new Map<Held, object>();
  const infoOf = (operand: Operand): tf.TensorInfo => {
    const h = held[operand.slot] as Held;
    let dataId = h.dataId ?? temporary.get(h);
    if (!dataId) {
      dataId = backend.makeOutput(operand.shape, operand.dtype, h.pointer).dataId;
      temporary.set(h, dataId);
    }
    return { dataId, shape: operand.shape, dtype: operand.dtype };
  };
  try {
    const results = callKernel(instruction, backend, infoOf);
    instruction.outputs.forEach((slot, i) => {
      const { dataId } = results[i];
      const bare = [...temporary].find(([, id]) => id === dataId)?.[0];
      if (bare) {
        bare.refs++;
        held[slot] = bare;
      } else {
        const pointer = backend.dataIdMap.get(dataId).memoryOffset;
        held[slot] = { pointer, dataId, refs: 1, owner: "record" };
      }
    });
  } finally {
    for (const dataId of temporary.values()) {
      backend.wasm.tfjs.disposeData(backend.dataIdMap.get(dataId).id);
      backend.dataIdMap.delete(dataId);
    }
  }
}
