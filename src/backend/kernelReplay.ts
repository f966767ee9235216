/**
 * Kernel replay: a step (a loss and its gradients) recorded once as the kernels it ran, then
 * re-run by calling those kernels directly — what CUDA graphs and torch.compile's
 * "reduce-overhead" do for PyTorch. A cxr-mini training step runs ~570 kernels, and tfjs's engine
 * spends ~8 ms a step around them (the tape, its pruning, tensor tracking, scopes, the garbage
 * they leave) whatever the batch; replay keeps only the kernels and the frees.
 *
 * The recording is the step itself, run eagerly with the registered kernels, the backend's
 * uploads and its reads watched: every kernel call at the top level (kernels a kernel calls are
 * its own business) becomes an instruction, every upload a constant, and each buffer is freed
 * right after its last reader. Inputs are bound afresh on every replay, tensors the step reads
 * from outside (weights) through the tensor object, so an assigned weight is read where it now
 * lives. Valid for one step function and one set of input shapes and dtypes (the caller's key):
 * the step must be a function of its inputs and those tensors alone. A step that reads data
 * mid-way (a data-dependent branch) cannot be replayed and is run eagerly every time.
 *
 * On wasm a plan runs on bare heap buffers and each native kernel's call planned once
 * (wasmHeapReplay.ts); elsewhere through the backend's kernels as recorded.
 */
import * as tf from "@tensorflow/tfjs-core";
import { readInto } from "./readInto";
import {
  callKernel,
  type Instruction,
  type Operand,
  type OutputSinks,
  type ReplayPlan,
} from "./replayPlan";
import { heapProgramOf, runHeapProgram } from "./wasmHeapReplay";

export type { OutputSinks, ReplayPlan } from "./replayPlan";

type KernelArgs = Parameters<tf.KernelConfig["kernelFunc"]>[0];
type Backend = tf.KernelBackend & {
  disposeData(dataId: object, force?: boolean): boolean;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): tf.backend_util.BackendValues;
  read(dataId: object): Promise<tf.backend_util.BackendValues>;
};

export interface Recording {
  outputs: tf.Tensor[];
  /** Undefined when the step cannot be replayed; `reason` says why. */
  plan?: ReplayPlan;
  reason?: string;
}

/**
 * Runs `step` eagerly and records it. `inputs` are the tensors that change between calls (bound
 * by position on replay); `step` returns the tensors the caller keeps.
 */
export function recordStep(inputs: tf.Tensor[], step: () => tf.Tensor[]): Recording {
  const backendName = tf.getBackend();
  const backend = tf.backend() as Backend;
  const recorder = new Recorder(backendName, inputs);
  const restore = recorder.watch(backend);
  let outputs: tf.Tensor[];
  try {
    outputs = step();
  } finally {
    restore();
  }
  const { plan, reason } = recorder.finish(outputs);
  return { outputs, plan, reason };
}

/**
 * Replays `plan` on `inputs`; returns the step's outputs as tensors the caller owns, or undefined
 * when the plan no longer fits (another backend, a kernel registered anew, a disposed tensor it
 * reads): the caller records again.
 */
export function replayStep(plan: ReplayPlan, inputs: tf.Tensor[]): tf.Tensor[] | undefined {
  return replayInto(plan, inputs, []) as tf.Tensor[] | undefined;
}

/**
 * `replayStep`, output i copied into `sinks[i]` where the replay can do it without a tensor (on
 * the wasm heap: that place of the result is then undefined); elsewhere returned as a tensor.
 */
function replayInto(
  plan: ReplayPlan,
  inputs: tf.Tensor[],
  sinks: OutputSinks,
): (tf.Tensor | undefined)[] | undefined {
  if (tf.getBackend() !== plan.backendName || signatureOf(inputs) !== plan.inputSignature) {
    return undefined;
  }
  if (plan.kernelConfigs.some((c) => tf.getKernel(c.kernelName, plan.backendName) !== c)) {
    return undefined;
  }
  if (plan.externals.some(({ tensor }) => tensor.isDisposed)) return undefined;
  const program = heapProgramOf(plan);
  if (program) return runHeapProgram(program, plan, inputs, sinks);
  const backend = tf.backend() as Backend;
  const dataIds: (object | undefined)[] = new Array(plan.slotCount);
  const owned = new Array<boolean>(plan.slotCount).fill(false);
  plan.inputSlots.forEach((slot, i) => (dataIds[slot] = inputs[i].dataId));
  for (const { slot, tensor } of plan.externals) dataIds[slot] = tensor.dataId;
  const release = (slot: number) => {
    if (!owned[slot]) return;
    owned[slot] = false;
    backend.disposeData(dataIds[slot] as object);
  };
  let done = false;
  try {
    for (const instruction of plan.instructions) {
      if (instruction.kind === "upload") {
        dataIds[instruction.output] = backend.write(
          instruction.values,
          instruction.shape,
          instruction.dtype,
        );
        owned[instruction.output] = true;
      } else {
        const results = callKernel(instruction, backend, (operand) => ({
          dataId: dataIds[operand.slot] as object,
          shape: operand.shape,
          dtype: operand.dtype,
        }));
        instruction.outputs.forEach((slot, i) => {
          dataIds[slot] = results[i].dataId;
          owned[slot] = true;
        });
      }
      for (const slot of instruction.frees) release(slot);
    }
    const engine = tf.engine() as unknown as {
      makeTensorFromTensorInfo(info: tf.TensorInfo, backend: tf.KernelBackend): tf.Tensor;
    };
    const outputs = plan.outputs.map(({ slot, shape, dtype }) => {
      owned[slot] = false;
      return engine.makeTensorFromTensorInfo(
        { dataId: dataIds[slot] as object, shape, dtype },
        backend,
      );
    });
    done = true;
    return outputs;
  } finally {
    // A kernel that threw leaves the buffers made so far: free them, as the engine would.
    if (!done) for (let slot = 0; slot < plan.slotCount; slot++) release(slot);
  }
}

/**
 * Copies each output that has a sink into it (readInto) and disposes it; returns the outputs,
 * undefined where they went to a sink. Outputs already sunk (undefined) are left as they are.
 */
export async function sinkOutputs(
  outputs: (tf.Tensor | undefined)[],
  sinks: OutputSinks,
): Promise<(tf.Tensor | undefined)[]> {
  const result = [...outputs];
  try {
    for (let i = 0; i < sinks.length; i++) {
      const sink = sinks[i];
      const t = result[i];
      if (!sink || !t) continue;
      await readInto(t, sink);
      t.dispose();
      result[i] = undefined;
    }
    return result;
  } catch (error) {
    tf.dispose(result.filter((t): t is tf.Tensor => t !== undefined));
    throw error;
  }
}

let replayEnabled = true;

/**
 * Turns replay on or off for every ReplayedStep (on by default). Off, steps run eagerly: to
 * measure what replay saves, or to rule it out.
 */
export function setKernelReplay(enabled: boolean): void {
  replayEnabled = enabled;
}

/** Whether tfjs's profiler is running (tf.profile): it counts kernels the engine runs. */
export function engineProfiling(): boolean {
  return (tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling;
}

/** Puts `method` on the backend object in place of `name`; returns what puts back what was there. */
function swapMethod<K extends "write" | "readSync" | "read">(
  backend: Backend,
  name: K,
  method: Backend[K],
): () => void {
  const own = Object.getOwnPropertyDescriptor(backend, name);
  backend[name] = method;
  return () => {
    if (own) Object.defineProperty(backend, name, own);
    else delete (backend as Partial<Backend>)[name];
  };
}

class Recorder {
  private readonly instructions: Instruction[] = [];
  /** The newest slot holding each buffer (a Reshape's output shares its input's). */
  private readonly slotOf = new Map<object, number>();
  private readonly externals: { slot: number; tensor: tf.Tensor }[] = [];
  private readonly inputSlots: number[];
  private readonly boundSlots: Set<number>;
  private slotCount = 0;
  private depth = 0;
  private reason: string | undefined;

  constructor(
    private readonly backendName: string,
    private readonly inputs: tf.Tensor[],
  ) {
    this.inputSlots = inputs.map((t) => this.newSlot(t.dataId));
    this.boundSlots = new Set(this.inputSlots);
  }

  /** Watches the backend's kernels, uploads and reads; returns what undoes that. */
  watch(backend: Backend): () => void {
    const undo: (() => void)[] = [];
    for (const config of tf.getKernelsForBackend(this.backendName)) {
      const kernelFunc = config.kernelFunc;
      config.kernelFunc = (args: KernelArgs) => {
        if (this.depth > 0) return kernelFunc(args);
        this.depth++;
        let result: ReturnType<typeof kernelFunc>;
        try {
          result = kernelFunc(args);
        } finally {
          this.depth--;
        }
        this.kernel(config, args, result);
        return result;
      };
      undo.push(() => (config.kernelFunc = kernelFunc));
    }
    const { write, readSync, read } = backend;
    const refuseRead = () => {
      if (this.depth === 0) this.refuse("the step reads a tensor's values");
    };
    undo.push(
      swapMethod(backend, "write", (values, shape, dtype) => {
        const dataId = write.call(backend, values, shape, dtype);
        if (this.depth === 0) this.upload(values, shape, dtype, dataId);
        return dataId;
      }),
      swapMethod(backend, "readSync", (dataId) => {
        refuseRead();
        return readSync.call(backend, dataId);
      }),
      swapMethod(backend, "read", (dataId) => {
        refuseRead();
        return read.call(backend, dataId);
      }),
    );
    return () => undo.forEach((f) => f());
  }

  finish(outputs: tf.Tensor[]): { plan?: ReplayPlan; reason?: string } {
    if (outputs.some((t) => !(t instanceof tf.Tensor))) {
      return { reason: "a result is not a tensor (a variable without a gradient?)" };
    }
    const outputSlots = outputs.map((t) => this.slotOf.get(t.dataId));
    if (outputSlots.some((s) => s === undefined || this.isBound(s))) {
      this.refuse("a result is not a buffer the step made");
    }
    if (new Set(outputSlots).size !== outputSlots.length) this.refuse("a result appears twice");
    if (this.externals.some((e) => e.tensor.isDisposed)) {
      this.refuse("the step reads a tensor it disposes");
    }
    if (this.reason !== undefined) return { reason: this.reason };
    const kept = new Set(outputSlots as number[]);
    // Each slot is freed after the last instruction that reads it (or after it is made).
    const last = new Array<number>(this.slotCount).fill(-1);
    this.instructions.forEach((instruction, at) => {
      const made = instruction.kind === "upload" ? [instruction.output] : instruction.outputs;
      for (const slot of made) last[slot] = at;
      if (instruction.kind === "kernel") {
        for (const operand of instruction.operands) if (operand) last[operand.slot] = at;
      }
    });
    last.forEach((at, slot) => {
      if (at >= 0 && !kept.has(slot) && !this.isBound(slot)) this.instructions[at].frees.push(slot);
    });
    return {
      plan: {
        backendName: this.backendName,
        kernels: this.instructions.filter((i) => i.kind === "kernel").length,
        instructions: this.instructions,
        slotCount: this.slotCount,
        inputSlots: this.inputSlots,
        inputSignature: signatureOf(this.inputs),
        kernelConfigs: [
          ...new Set(this.instructions.flatMap((i) => (i.kind === "kernel" ? [i.config] : []))),
        ],
        externals: this.externals,
        outputs: outputs.map((t, i) => ({
          slot: outputSlots[i] as number,
          shape: t.shape,
          dtype: t.dtype,
        })),
      },
    };
  }

  private kernel(
    config: tf.KernelConfig,
    args: KernelArgs,
    result: tf.TensorInfo | tf.TensorInfo[],
  ): void {
    const names = Object.keys(args.inputs);
    const operands = names.map((name) => {
      const info = args.inputs[name];
      return info ? this.operand(info) : undefined;
    });
    const results = Array.isArray(result) ? result : [result];
    const inputIds = names.map((name) => args.inputs[name]?.dataId);
    this.instructions.push({
      kind: "kernel",
      config,
      list: Array.isArray(args.inputs),
      names,
      operands,
      attrs: args.attrs,
      aliasOf: results.map((info) => inputIds.indexOf(info.dataId)),
      outputs: results.map((info) => this.newSlot(info.dataId)),
      frees: [],
    });
  }

  private upload(
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    dataId: object,
  ): void {
    if (!ArrayBuffer.isView(values)) {
      this.refuse(`the step uploads ${dtype} values a replay cannot copy`);
      return;
    }
    this.instructions.push({
      kind: "upload",
      // A copy: the caller may reuse the array it uploaded.
      values: (values as Float32Array).slice(),
      shape: [...shape],
      dtype,
      output: this.newSlot(dataId),
      frees: [],
    });
  }

  /** The slot a kernel reads: one the step made or bound, else a tensor from outside. */
  private operand(info: tf.TensorInfo): Operand {
    let slot = this.slotOf.get(info.dataId);
    if (slot === undefined) {
      if (!(info instanceof tf.Tensor)) this.refuse("a kernel reads a buffer no tensor holds");
      slot = this.newSlot(info.dataId);
      this.externals.push({ slot, tensor: info as tf.Tensor });
      this.boundSlots.add(slot);
    }
    return { slot, shape: [...info.shape], dtype: info.dtype };
  }

  /** Inputs and outside tensors: bound on each replay, never freed by it. */
  private isBound(slot: number | undefined): boolean {
    return slot !== undefined && this.boundSlots.has(slot);
  }

  private newSlot(dataId: object): number {
    const slot = this.slotCount++;
    this.slotOf.set(dataId, slot);
    return slot;
  }

  private refuse(reason: string): void {
    this.reason ??= reason;
  }
}

/**
 * A step replayed per input signature (the inputs' shapes and dtypes, after an optional label):
 * recorded on its first call, replayed after (recorded again when a plan no longer fits), run
 * eagerly where it cannot be replayed and while tfjs's profiler counts kernels. Keeps the plans of
 * the last few signatures (a run's last, smaller batch has its own).
 */
export class ReplayedStep {
  private readonly plans = new Map<string, ReplayPlan | string>();

  constructor(private readonly maxKeys = 4) {}

  run(inputs: tf.Tensor[], step: () => tf.Tensor[], label = ""): tf.Tensor[] {
    return this.runWith(inputs, step, label, []) as tf.Tensor[];
  }

  /**
   * `run`, output i copied into `sinks[i]` where one is given and not returned (undefined in its
   * place): straight from the wasm heap in a replay there, else read from its tensor.
   */
  async runInto(
    inputs: tf.Tensor[],
    step: () => tf.Tensor[],
    sinks: OutputSinks,
    label = "",
  ): Promise<(tf.Tensor | undefined)[]> {
    return sinkOutputs(this.runWith(inputs, step, label, sinks), sinks);
  }

  private runWith(
    inputs: tf.Tensor[],
    step: () => tf.Tensor[],
    label: string,
    sinks: OutputSinks,
  ): (tf.Tensor | undefined)[] {
    if (!replayEnabled || engineProfiling()) return step();
    const key = keyOf(inputs, label);
    const known = this.plans.get(key);
    if (typeof known === "string") return step();
    const replayed = known && replayInto(known, inputs, sinks);
    if (replayed) return replayed;
    const { outputs, plan, reason } = recordStep(inputs, step);
    this.plans.delete(key);
    this.plans.set(key, plan ?? reason ?? "not replayable");
    if (this.plans.size > this.maxKeys) this.plans.delete(this.plans.keys().next().value as string);
    return outputs;
  }

  /** Why the step runs eagerly on such inputs, if it does (for tests and diagnostics). */
  refusal(inputs: tf.Tensor[], label = ""): string | undefined {
    const known = this.plans.get(keyOf(inputs, label));
    return typeof known === "string" ? known : undefined;
  }

  /** Kernel calls a replay on such inputs makes, once recorded. */
  kernels(inputs: tf.Tensor[], label = ""): number | undefined {
    const known = this.plans.get(keyOf(inputs, label));
    return typeof known === "object" ? known.kernels : undefined;
  }
}

function keyOf(inputs: tf.Tensor[], label: string): string {
  return `${label} ${signatureOf(inputs)}`;
}

/** A key for tensors' shapes and dtypes, in order. */
function signatureOf(tensors: tf.Tensor[]): string {
  return tensors.map((t) => `${t.dtype}[${t.shape.join(",")}]`).join(" ");
}
