/**
 * The multi-tensor sum of squares (a step's global gradient norm) against the composition of
 * tfjs ops, on cpu, wasm and WebGPU: within 1e-4 relative, in one kernel for any number of
 * tensors, and a clear error for none.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { fusedSumOfSquares } from "../../src/backend/fusedKernels/fusedSumOfSquares";
import "../../src/backend/fusedKernels/registerFusedKernels";
import { countKernels } from "../../bench/kernels";
import { eachBackend, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

// Twelve tensors: more than one WebGPU shader may bind at once (AddN is chunked there).
const SHAPES = [
  [1],
  [7],
  [3, 5],
  [2, 3, 4, 5],
  [64, 33],
  [3, 3, 8, 16],
  [5],
  [9, 2],
  [4],
  [1, 1],
  [6, 6],
  [100],
];

eachBackend("sum of squares over many tensors = the composed ops, one kernel", async (backend) => {
  await useBackend(backend);
  const tensors = SHAPES.map((shape, i) =>
    tf.tensor(
      seeded(
        shape.reduce((n, d) => n * d, 1),
        50 + i,
        3,
      ),
      shape,
    ),
  );
  let fused: tf.Tensor | undefined;
  const kernels = await countKernels(async () => {
    fused = fusedSumOfSquares(tensors);
  });
  expect(kernels.total).toBe(1);
  if (backend === "webgpu") {
    // A dispatch per (storage-buffer limit − 1) tensors, and one over their partial sums.
    const limit = (tf.backend() as unknown as { device: { limits: Record<string, number> } }).device
      .limits.maxStorageBuffersPerShaderStage;
    expect(kernels.dispatches).toBe(Math.ceil(SHAPES.length / (limit - 1)) + 1);
  }
  const reference = tf.tidy(() => tf.addN(tensors.map((t) => tf.sum(tf.square(t)))));
  const [ours] = await fused!.data();
  const [expected] = await reference.data();
  expect(fused!.shape).toEqual([1]);
  expect(expected).toBeGreaterThan(1);
  expect(Math.abs(ours - expected) / expected).toBeLessThanOrEqual(1e-4);
  tf.dispose([...tensors, fused!, reference]);
  await useBackend("wasm");
});

test("no tensors is refused", () => {
  expect(() => fusedSumOfSquares([])).toThrow(/no tensors/);
});
