/**
 * A recorded step as kernelReplay.ts records it and both replays run it (through tfjs's kernels,
 * or on the wasm heap: wasmHeapReplay.ts): its instructions, its slots, and the call that runs
 * one recorded kernel.
 */
import * as tf from "@tensorflow/tfjs-core";

type KernelArgs = Parameters<tf.KernelConfig["kernelFunc"]>[0];

/** A tensor as an instruction reads it: the slot holding its buffer, its shape and dtype. */
export interface Operand {
  slot: number;
  shape: number[];
  dtype: tf.DataType;
}

export type Instruction =
  | {
      kind: "kernel";
      config: tf.KernelConfig;
      /** Concat, AddN and the like take a list of inputs, the rest named ones. */
      list: boolean;
      names: string[];
      operands: (Operand | undefined)[];
      attrs: KernelArgs["attrs"];
      outputs: number[];
      /** Per output, the operand whose buffer it is (a Reshape's), else -1. */
      aliasOf: number[];
      frees: number[];
    }
  | {
      kind: "upload";
      values: tf.backend_util.BackendValues;
      shape: number[];
      dtype: tf.DataType;
      output: number;
      frees: number[];
    };

export interface ReplayPlan {
  readonly backendName: string;
  /** Kernel calls a replay makes (the engine would run as many). */
  readonly kernels: number;
  readonly instructions: Instruction[];
  readonly slotCount: number;
  /** Slot of input i. */
  readonly inputSlots: number[];
  /** Input i's shape and dtype when recorded (a replay on others would misread them). */
  readonly inputSignature: string;
  /** Every kernel the plan calls: a replay after one was registered anew records again. */
  readonly kernelConfigs: tf.KernelConfig[];
  /** Tensors the step reads from outside, by slot: bound through the live tensor object. */
  readonly externals: { slot: number; tensor: tf.Tensor }[];
  /** The step's results: slot, shape and dtype. */
  readonly outputs: Operand[];
}

/**
 * Where a step's outputs go: output i into `sinks[i]` (a float32 array of its size) where one
 * is given — a data-parallel replica's gradients into shared memory — else a tensor.
 */
export type OutputSinks = (Float32Array | undefined)[];

/** Calls a recorded kernel on its operands as `infoOf` gives them (operand, its index); returns its outputs. */
export function callKernel(
  instruction: Extract<Instruction, { kind: "kernel" }>,
  backend: tf.KernelBackend,
  infoOf: (operand: Operand, index: number) => tf.TensorInfo,
): tf.TensorInfo[] {
  const { names, operands } = instruction;
  const named: Record<string, tf.TensorInfo | undefined> | (tf.TensorInfo | undefined)[] =
    instruction.list ? new Array(names.length) : {};
  for (let i = 0; i < names.length; i++) {
    const operand = operands[i];
    (named as Record<string, tf.TensorInfo | undefined>)[names[i]] = operand && infoOf(operand, i);
  }
  const result = instruction.config.kernelFunc({
    inputs: named as KernelArgs["inputs"],
    attrs: instruction.attrs,
    backend,
  });
  return Array.isArray(result) ? result : [result];
}
