/**
 * Native kernel calls written as data (native/src/commands.h has the layout): a planned kernel
 * (heapCall.ts) says what it does as commands over its arrays once, and the addon runs them —
 * one call for the kernel when tfjs calls it, one call for a whole run of kernels when a step is
 * replayed (wasmHeapReplay.ts), with no JavaScript between them.
 */

/** The operations of native/src/commands.h, by its codes. */
export const COMMAND_OPS = {
  gemm: 0,
  convForward: 1,
  convBackpropInput: 2,
  convBackpropFilter: 3,
  normForward: 4,
  normBackward: 5,
  activationForward: 6,
  activationBackward: 7,
  attentionForward: 8,
  attentionBackward: 9,
  fill: 10,
  columnSums: 11,
  copyRows: 12,
  binary: 13,
  reduceSum: 14,
} as const;

export type CommandOp = keyof typeof COMMAND_OPS;

/** The memory regions a command table may name: the wasm heap and one outside it. */
export const COMMAND_REGIONS = 2;

/** An array a command names (an index its caller resolves), or null for an absent one. */
export type CommandArray = number | null;

const floatBits = new Int32Array(1);
const floatView = new Float32Array(floatBits.buffer);

/** Commands as the addon reads them: op, arrays, ints, floats (as their bits). */
export class CommandWriter {
  private readonly values: number[] = [];

  add(op: CommandOp, arrays: CommandArray[], ints: ArrayLike<number>, floats: number[] = []): this {
    this.values.push(COMMAND_OPS[op], arrays.length, ...arrays.map((a) => a ?? -1));
    this.values.push(ints.length, ...Array.from(ints));
    this.values.push(floats.length);
    for (const f of floats) {
      floatView[0] = f;
      this.values.push(floatBits[0]);
    }
    return this;
  }

  finish(): Int32Array {
    return Int32Array.from(this.values);
  }
}

/** The commands' arrays (each index's place) renamed through `rename`, everything else kept. */
export function renameCommandArrays(
  commands: Int32Array,
  rename: (index: number) => number,
): Int32Array {
  const out = commands.slice();
  for (let at = 0; at < out.length;) {
    const arrays = out[at + 1];
    for (let i = 0; i < arrays; i++) {
      const index = out[at + 2 + i];
      if (index >= 0) out[at + 2 + i] = rename(index);
    }
    at += 2 + arrays;
    at += 1 + out[at];
    at += 1 + out[at];
  }
  return out;
}
