/**
 * Add, Sub, Multiply and RealDiv of float32 tensors (broadcast either way) and Sum and Mean of
 * float32 over any axes on the wasm backend as planned native calls (native/src/broadcast.cc).
 * A training step runs ~70 same-shape Adds accumulating gradients, a broadcast Add and a Sum over
 * the repeated axes for each nearest-neighbour upsampling (tfjs-wasm transposes before every
 * reduction: ~0.4 ms a step for two of them at a batch of 16), and the loss's and time
 * embedding's small products and means. As planned calls a replay runs them inside its native
 * command runs. Other dtypes, and shapes past rank 6 once merged, go to the kernels registered
 * before.
 */
import { backend_util, util, type KernelConfig } from "@tensorflow/tfjs-core";
import { heapKernelsOver, type HeapPlanner } from "./heapCall";
import type { NativeAddon } from "./nativeAddon";
import { CommandWriter } from "./nativeCommands";

/** native/src/broadcast.h's kMaxBroadcastRank. */
const MAX_RANK = 6;

/** native/src/broadcast.h's BinaryOp codes. */
const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;

/** Row-major strides of `shape` placed at the right of `rank` dims, 0 where it broadcasts. */
function broadcastStrides(shape: number[], rank: number): number[] {
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1) strides[rank - shape.length + d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/**
 * Dims (with a stride per operand) merged where the outer one continues the inner one for every
 * operand, and dims of 1 dropped: the fewest a loop needs.
 */
function mergeDims(dims: number[], strides: number[][]): { dims: number[]; strides: number[][] } {
  const out: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = dims.length - 1; d >= 0; d--) {
    if (dims[d] === 1) continue;
    const last = out.length - 1;
    const continues = last >= 0 && strides.every((s, k) => s[d] === outStrides[k][0] * out[0]);
    if (continues) {
      out[0] *= dims[d];
    } else {
      out.unshift(dims[d]);
      strides.forEach((s, k) => outStrides[k].unshift(s[d]));
    }
  }
  return { dims: out, strides: outStrides };
}

/** `values` padded with zeros to MAX_RANK. */
const padded = (values: number[]) => [...values, ...new Array(MAX_RANK - values.length).fill(0)];

function binary(op: keyof typeof BINARY_OPS): HeapPlanner {
  return ({ a, b }) => {
    if (!a || !b || a.dtype !== "float32" || b.dtype !== "float32") return undefined;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const rank = outShape.length;
    const merged = mergeDims(outShape, [
      broadcastStrides(a.shape, rank),
      broadcastStrides(b.shape, rank),
    ]);
    if (merged.dims.length > MAX_RANK) return undefined;
    const commands = new CommandWriter();
    if (util.sizeFromShape(outShape) > 0) {
      commands.add(
        "binary",
        [0, 1, 2],
        [
          BINARY_OPS[op],
          merged.dims.length,
          ...padded(merged.dims),
          ...padded(merged.strides[0]),
          ...padded(merged.strides[1]),
        ],
      );
    }
    return { reads: ["a", "b"], outputs: [{ shape: outShape }], commands: commands.finish() };
  };
}

function reduction(mean: boolean): HeapPlanner {
  return ({ x }, attrs) => {
    if (!x || x.dtype !== "float32") return undefined;
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape);
    const [kept, reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const count = util.sizeFromShape(reducedShape);
    if (mean && count === 0) return undefined;
    // The output's strides over x's dims (0 where summed): adjacent dims merge where both are
    // summed or both kept, as they do for a broadcast.
    const rank = x.shape.length;
    const asOutput = x.shape.map((size, d) => (axes.includes(d) ? 1 : size));
    const runs = mergeDims(x.shape, [
      broadcastStrides(x.shape, rank),
      broadcastStrides(asOutput, rank),
    ]);
    if (runs.dims.length > MAX_RANK) return undefined;
    const reduced = runs.strides[1].reduce((bits, s, d) => bits | (s === 0 ? 1 << d : 0), 0);
    return {
      reads: ["x"],
      outputs: [{ shape: keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept }],
      commands: new CommandWriter()
        .add(
          "reduceSum",
          [0, 1],
          [runs.dims.length, ...padded(runs.dims), reduced, mean ? count : 1],
        )
        .finish(),
    };
  };
}

export function nativeArithmeticConfigs(
  addon: NativeAddon,
  previous: (name: string) => KernelConfig,
): KernelConfig[] {
  return heapKernelsOver(addon, previous, {
    Add: binary("Add"),
    Sub: binary("Sub"),
    Multiply: binary("Multiply"),
    RealDiv: binary("RealDiv"),
    Sum: reduction(false),
    Mean: reduction(true),
  });
}
