/**
 * Kernel replay on the wasm heap: a recorded step (kernelReplay.ts) re-run with buffers as bare
 * heap offsets. Each native kernel's call is planned once (nativeKernels/heapCall.ts) as native
 * commands, and every run of planned calls between two other kernels becomes one native call
 * (nativeCommands.ts) — a training step's ~500 native kernels in a few dozen calls, with no
 * JavaScript, allocation or view between them. A Reshape is the same buffer again; an upload is
 * a copy. Only the other wasm kernels (a Concat's gather, a Sum) still see tfjs's tensor records,
 * made for the call and dropped after it.
 *
 * The step's intermediate buffers share one block of the heap, taken for the step and given back
 * after it: each buffer gets an offset in it when the program is compiled (buffers that are never
 * alive at once share bytes), so a step makes one allocation where it made one per buffer. The
 * step's results get buffers of their own and become tensors the caller owns, or go to the
 * caller's sinks: written there directly where only native commands touch them (a data-parallel
 * replica's gradients, into its shared share), else copied.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, type WasmBackendLike } from "./backendScope";
import {
  callKernel,
  type Instruction,
  type Operand,
  type OutputSinks,
  type ReplayPlan,
} from "./replayPlan";
import { isHeapKernel, type HeapCall } from "./nativeKernels/heapCall";
import { loadNativeKernels, type NativeAddon } from "./nativeKernels/nativeAddon";
import { renameCommandArrays } from "./nativeKernels/nativeCommands";

/** tfjs-wasm's backend as a replay uses it: its heap's allocator and its tensor records too. */
type WasmBackend = {
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
} & WasmBackendLike;

type KernelInstruction = Extract<Instruction, { kind: "kernel" }>;

/**
 * Where a buffer lives while a step runs: a tensor's the step reads (`bound`), a record a tfjs
 * kernel made (`record`), a place in the step's block (`arena`), or a buffer of its own that
 * outlives the step (`owned`: a result).
 */
export interface BufferPlan {
  placement: "bound" | "record" | "arena" | "owned";
  bytes: number;
  /** Instructions from the one that makes it to the last that reads it. */
  first: number;
  last: number;
  /** Its place in the block (arena buffers). */
  offset: number;
  /**
   * Only native commands read or write it (no tfjs kernel, upload or tensor record): it may lie
   * outside the heap, in the step's outside region.
   */
  commandsOnly: boolean;
  /** How many of the step's results it is. */
  results: number;
}

export type HeapAction =
  | { kind: "commands"; begin: number; end: number; instructions: number; disposals: number[] }
  | { kind: "upload"; bytes: Uint8Array; buffer: number; disposals: number[] }
  | {
      kind: "kernel";
      instruction: KernelInstruction;
      /** Per operand its buffer (-1: absent), per output its buffer. */
      operands: number[];
      outputs: number[];
      disposals: number[];
    };

export interface HeapProgram {
  actions: HeapAction[];
  /** Every planned call's commands, their arrays renamed to buffers. */
  commands: Int32Array;
  buffers: BufferPlan[];
  /** The buffer each slot names. */
  slotBuffers: number[];
  /** The step's block: the arena buffers' extent. */
  arenaBytes: number;
  /** Instructions run as planned calls, aliases and copies (the rest go through tfjs's kernels). */
  direct: number;
}

/** Arena offsets are multiples of this (a cache line). */
const ARENA_ALIGNMENT = 64;

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
  const buffers: BufferPlan[] = [];
  const slotBuffers: number[] = new Array(plan.slotCount).fill(-1);
  const fresh = (placement: BufferPlan["placement"], bytes: number, first: number) => {
    buffers.push({
      placement,
      bytes,
      first,
      last: first,
      offset: 0,
      commandsOnly: false,
      results: 0,
    });
    return buffers.length - 1;
  };
  for (const slot of plan.inputSlots) slotBuffers[slot] = fresh("bound", 0, -1);
  for (const { slot } of plan.externals) slotBuffers[slot] = fresh("bound", 0, -1);

  const actions: HeapAction[] = [];
  const commands: Int32Array[] = [];
  let commandLength = 0;
  let direct = 0;
  // Per instruction, the last action run once it has run (an alias runs none of its own).
  const actionAt: number[] = [];
  plan.instructions.forEach((instruction, at) => {
    compileOne(instruction, at);
    actionAt.push(actions.length - 1);
  });

  function compileOne(instruction: Instruction, at: number): void {
    if (instruction.kind === "upload") {
      const v = instruction.values as Float32Array;
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const buffer = fresh("arena", bytes.length, at);
      slotBuffers[instruction.output] = buffer;
      actions.push({ kind: "upload", bytes, buffer, disposals: [] });
      direct++;
      return;
    }
    const { operands, outputs, aliasOf } = instruction;
    const operandBuffers = operands.map((o) => (o ? slotBuffers[o.slot] : -1));
    if (outputs.length > 0 && aliasOf.every((a) => a >= 0)) {
      outputs.forEach((slot, i) => (slotBuffers[slot] = operandBuffers[aliasOf[i]]));
      direct++;
      return;
    }
    const call = planned(instruction);
    if (!call) {
      const made = outputs.map((slot, i) => {
        const buffer = aliasOf[i] >= 0 ? operandBuffers[aliasOf[i]] : fresh("record", 0, at);
        slotBuffers[slot] = buffer;
        return buffer;
      });
      actions.push({
        kind: "kernel",
        instruction,
        operands: operandBuffers,
        outputs: made,
        disposals: [],
      });
      for (const id of [...operandBuffers, ...made]) if (id >= 0) buffers[id].commandsOnly = false;
      return;
    }
    const reads = call.reads.map((name) => operandBuffers[instruction.names.indexOf(name)] ?? -1);
    const made = call.outputs.map((o) => {
      if (!("shape" in o)) return reads[o.input];
      const buffer = fresh("arena", 4 * tf.util.sizeFromShape(o.shape), at);
      buffers[buffer].commandsOnly = true;
      return buffer;
    });
    outputs.forEach((slot, i) => (slotBuffers[slot] = made[i]));
    const named = [...reads, ...made];
    const renamed = renameCommandArrays(call.commands, (index) => named[index]);
    // Joined to the run before when nothing else came between them.
    const last = actions[actions.length - 1];
    if (last?.kind === "commands") {
      last.end += renamed.length;
      last.instructions++;
    } else {
      const begin = commandLength;
      actions.push({
        kind: "commands",
        begin,
        end: begin + renamed.length,
        instructions: 1,
        disposals: [],
      });
    }
    commands.push(renamed);
    commandLength += renamed.length;
    direct++;
  }

  // A buffer lives until its last slot is freed; the step's results live on as buffers of their own.
  plan.instructions.forEach((instruction, at) => {
    for (const slot of instruction.frees) {
      const b = buffers[slotBuffers[slot]];
      b.last = Math.max(b.last, at);
    }
  });
  for (const { slot } of plan.outputs) buffers[slotBuffers[slot]].results++;
  buffers.forEach((b, id) => {
    if (b.placement === "arena" && b.results > 0) b.placement = "owned";
    if (b.placement === "record" && b.results === 0) actions[actionAt[b.last]].disposals.push(id);
  });
  const arenaBytes = packArena(buffers);
  const joined = new Int32Array(commandLength);
  let offset = 0;
  for (const c of commands) {
    joined.set(c, offset);
    offset += c.length;
  }
  return { actions, commands: joined, buffers, slotBuffers, arenaBytes, direct };
}

/**
 * Offsets for the arena buffers, largest first, each at the lowest place no buffer alive at the
 * same time holds; returns the block's size.
 */
export function packArena(buffers: BufferPlan[]): number {
  const arena = buffers.filter((b) => b.placement === "arena");
  arena.sort((a, b) => b.bytes - a.bytes || a.first - b.first);
  const placed: BufferPlan[] = [];
  let extent = 0;
  for (const b of arena) {
    const size = roundUp(b.bytes);
    const alongside = placed
      .filter((p) => p.first <= b.last && b.first <= p.last)
      .sort((p, q) => p.offset - q.offset);
    let offset = 0;
    for (const p of alongside) {
      if (offset + size <= p.offset) break;
      offset = Math.max(offset, p.offset + roundUp(p.bytes));
    }
    b.offset = offset;
    extent = Math.max(extent, offset + size);
    placed.push(b);
  }
  return extent;
}

/** Bytes tfjs-wasm keeps a tensor in. */
function bytesOf(t: { shape: number[]; dtype: tf.DataType }): number {
  return tf.util.sizeFromShape(t.shape) * tf.util.bytesPerElement(t.dtype);
}

const roundUp = (bytes: number) =>
  Math.max(ARENA_ALIGNMENT, Math.ceil(bytes / ARENA_ALIGNMENT) * ARENA_ALIGNMENT);

/** The native call an instruction makes, planned for its operands; undefined where it has none. */
function planned(instruction: KernelInstruction): HeapCall | undefined {
  const { config, names, operands, outputs } = instruction;
  if (!isHeapKernel(config)) return undefined;
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
  return new HeapStep(program, plan, tf.backend() as WasmBackend).run(inputs, sinks);
}

/** One run of a program: its buffers' places (a table the native commands read) and records. */
class HeapStep {
  /**
   * Per buffer, where it lies as runCommands reads it: byte offset on the heap and length in
   * floats, or float offset in the outside region and ~length.
   */
  private readonly table: Int32Array;
  /** Per buffer, the tensor record that holds it (bound buffers, records). */
  private readonly records: (object | undefined)[];
  /** Planned calls exist only where native kernels are registered: they have the addon. */
  private readonly addon: NativeAddon | undefined;
  private readonly made: number[] = [];
  private arena = 0;
  /** The results written where their sinks are, and the memory those sinks share. */
  private readonly sunk = new Set<number>();
  private outside: Float32Array | undefined;

  constructor(
    private readonly program: HeapProgram,
    private readonly plan: ReplayPlan,
    private readonly backend: WasmBackend,
  ) {
    this.table = new Int32Array(2 * program.buffers.length);
    this.records = new Array(program.buffers.length);
    this.addon = loadNativeKernels().addon;
  }

  run(inputs: tf.Tensor[], sinks: OutputSinks): (tf.Tensor | undefined)[] {
    const { program, plan, backend } = this;
    const { wasm } = backend;
    let done = false;
    try {
      plan.inputSlots.forEach((slot, i) => this.bind(program.slotBuffers[slot], inputs[i]));
      for (const { slot, tensor } of plan.externals) this.bind(program.slotBuffers[slot], tensor);
      if (program.arenaBytes > 0) this.arena = this.malloc(program.arenaBytes);
      this.placeInSinks(sinks);
      program.buffers.forEach((b, id) => {
        if (b.placement === "arena") this.place(id, this.arena + b.offset, b.bytes);
        else if (b.placement === "owned" && !this.sunk.has(id)) {
          this.place(id, this.malloc(b.bytes), b.bytes);
        }
      });
      for (const action of program.actions) {
        if (action.kind === "commands") {
          this.runCommands(action.begin, action.end);
        } else if (action.kind === "upload") {
          wasm.HEAPU8.set(action.bytes, this.table[2 * action.buffer] >>> 0);
        } else {
          this.runKernel(action);
        }
        for (const id of action.disposals) this.dispose(id);
      }
      const outputs = this.outputs(sinks);
      done = true;
      return outputs;
    } finally {
      if (this.arena) wasm._free(this.arena);
      // A kernel that threw leaves the buffers made so far.
      if (!done) {
        for (const pointer of this.made) if (pointer !== this.arena) wasm._free(pointer);
        this.records.forEach((_, id) => {
          if (program.buffers[id].placement === "record") this.dispose(id);
        });
      }
    }
  }

  private runCommands(begin: number, end: number): void {
    // Calls planned for empty tensors leave a run with nothing to do.
    if (begin === end) return;
    if (!this.addon) throw new Error("replay: native commands without the native addon");
    const { table, program, outside } = this;
    this.addon.runCommands(this.backend.wasm.HEAPU8, table, program.commands, begin, end, outside);
  }

  /**
   * Results only native commands touch are written straight into their sinks, where every such
   * sink lies in one buffer other than the heap (the outside region): no copy after the step. A
   * data-parallel replica's gradients so go once into its shared share.
   */
  private placeInSinks(sinks: OutputSinks): void {
    const { program, plan } = this;
    const heap = this.backend.wasm.HEAPU8.buffer;
    plan.outputs.forEach(({ slot }, i) => {
      const sink = sinks[i];
      const id = program.slotBuffers[slot];
      const b = program.buffers[id];
      if (!sink || sink.buffer === heap || b.placement !== "owned") return;
      if (!b.commandsOnly || b.results !== 1) return;
      this.outside ??= new Float32Array(sink.buffer, 0, Math.floor(sink.buffer.byteLength / 4));
      if (sink.buffer !== this.outside.buffer) return;
      this.table[2 * id] = sink.byteOffset / 4;
      this.table[2 * id + 1] = ~sink.length;
      this.sunk.add(id);
    });
  }

  private bind(id: number, tensor: tf.Tensor): void {
    this.records[id] = tensor.dataId;
    this.place(id, heapOffset(this.backend, tensor), bytesOf(tensor));
  }

  /** The buffer's place and length in whole floats, as the commands check what they read. */
  private place(id: number, pointer: number, bytes: number): void {
    this.table[2 * id] = pointer;
    this.table[2 * id + 1] = bytes >> 2;
  }

  private malloc(bytes: number): number {
    const pointer = this.backend.wasm._malloc(bytes) >>> 0;
    this.made.push(pointer);
    return pointer;
  }

  private dispose(id: number): void {
    const dataId = this.records[id];
    this.records[id] = undefined;
    if (dataId) this.backend.disposeData(dataId);
  }

  /** A wasm kernel of tfjs's: bare buffers get tensor records for the call, dropped after it. */
  private runKernel(action: Extract<HeapAction, { kind: "kernel" }>): void {
    const { backend, table, records } = this;
    const { instruction } = action;
    const temporary = new Map<number, object>();
    const infoOf = (operand: Operand, i: number): tf.TensorInfo => {
      const id = action.operands[i];
      let dataId = records[id] ?? temporary.get(id);
      if (!dataId) {
        const pointer = table[2 * id] >>> 0;
        dataId = backend.makeOutput(operand.shape, operand.dtype, pointer).dataId;
        temporary.set(id, dataId);
      }
      return { dataId, shape: operand.shape, dtype: operand.dtype };
    };
    try {
      const results = callKernel(instruction, backend, infoOf);
      action.outputs.forEach((id, i) => {
        const { dataId } = results[i];
        if (instruction.aliasOf[i] >= 0) {
          // The operand's buffer again: a record's extra reference is dropped at once.
          if (dataId !== temporary.get(id) && dataId !== records[id]) {
            throw new Error(`replay: ${instruction.config.kernelName} no longer returns its input`);
          }
          if (dataId === records[id]) backend.disposeData(dataId);
          return;
        }
        if ([...temporary.values()].includes(dataId)) {
          throw new Error(
            `replay: ${instruction.config.kernelName} returned an input it did not when recorded`,
          );
        }
        records[id] = dataId;
        this.place(id, heapOffset(backend, results[i]), bytesOf(results[i]));
      });
    } finally {
      for (const dataId of temporary.values()) {
        backend.wasm.tfjs.disposeData(backend.dataIdMap.get(dataId).id);
        backend.dataIdMap.delete(dataId);
      }
    }
  }

  /** The step's results as tensors (or copied into sinks); owned buffers are theirs. */
  private outputs(sinks: OutputSinks): (tf.Tensor | undefined)[] {
    const { program, plan, backend, table, records } = this;
    const handed = new Set<number>();
    const result = plan.outputs.map(({ slot, shape, dtype }, i) => {
      const id = program.slotBuffers[slot];
      const sink = sinks[i];
      if (sink) {
        if (this.sunk.has(id)) return undefined;
        sink.set(new Float32Array(backend.wasm.HEAPU8.buffer, table[2 * id] >>> 0, sink.length));
        return undefined;
      }
      let dataId = records[id];
      if (!dataId) {
        // An owned buffer becomes the tensor's: freed when the caller disposes it.
        dataId = backend.makeOutput(shape, dtype, table[2 * id] >>> 0).dataId;
        records[id] = dataId;
      } else if (handed.has(id) || program.buffers[id].placement === "bound") {
        backend.incRef(dataId);
      }
      handed.add(id);
      return tf.engine().makeTensorFromTensorInfo({ dataId, shape, dtype }, backend);
    });
    // Results no tensor took (sinks took their floats): owned buffers and records.
    for (const { slot } of plan.outputs) {
      const id = program.slotBuffers[slot];
      if (handed.has(id)) continue;
      handed.add(id);
      const { placement } = program.buffers[id];
      if (placement === "owned" && !this.sunk.has(id)) backend.wasm._free(table[2 * id] >>> 0);
      else if (placement === "record") this.dispose(id);
    }
    return result;
  }
}
