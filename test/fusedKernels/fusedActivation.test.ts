/**
 * SiLU and GELU as fused kernels against autodiff through their definitions as plain tfjs ops
 * (x·σ(x); GELU with tfjs's own Tanh) on cpu, wasm and WebGPU, over a grid of shapes and
 * magnitudes: values and gradients within 1e-4; one kernel forward, one backward.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { ActivationName } from "../../src/backend/fusedKernels/fusedActivation";
import { fusedActivation } from "../../src/backend/fusedKernels/fusedActivationOp";
import { countKernels } from "../../bench/kernels";
import { eachBackend, expectSameOutputs, seeded } from "./backendsUnderTest";

jest.setTimeout(120_000);

// Sizes off and on vector widths (4, 8, 16 floats), ranks 1–4, and inputs far into the tails.
const CASES: { shape: number[]; scale: number }[] = [
  { shape: [1], scale: 1 },
  { shape: [15], scale: 3 },
  { shape: [2, 17], scale: 4 },
  { shape: [3, 5, 7], scale: 2 },
  { shape: [2, 4, 4, 16], scale: 1 },
  { shape: [33], scale: 30 },
];

const DEFINITIONS: Record<ActivationName, (x: tf.Tensor) => tf.Tensor> = {
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  gelu: (x) =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))),
    ),
};

eachBackend(
  "fused SiLU and GELU = their definitions, values and gradients (≤ 1e-4)",
  async (backend) => {
    await useBackend(backend);
    for (const activation of ["silu", "gelu"] as const) {
      for (const [i, c] of CASES.entries()) {
        const size = c.shape.reduce((n, d) => n * d, 1);
        const x = tf.tensor(seeded(size, 100 + i, c.scale), c.shape);
        const weights = tf.tensor(seeded(size, 200 + i), c.shape);
        const [fused, reference] = [
          (v: tf.Tensor) => fusedActivation(v, activation),
          DEFINITIONS[activation],
        ].map((f) => [tf.tidy(() => f(x)), ...tf.grads((v) => tf.sum(tf.mul(f(v), weights)))([x])]);
        await expectSameOutputs(fused, reference, [activation, i], ["y", "dx"]);
        const kernels = await countKernels(async () => {
          const [dx] = tf.grads((v) => tf.sum(fusedActivation(v, activation)))([x]);
          dx.dispose();
        });
        expect(kernels.byKernel.get("FairdiffActivation")).toBe(1);
        expect(kernels.byKernel.get("FairdiffActivationGrad")).toBe(1);
        tf.dispose([x, weights, ...fused, ...reference]);
      }
    }
    await useBackend("wasm");
  },
);

test("an unknown activation or a non-float input is refused, naming it", async () => {
  await useBackend("cpu");
  const x = tf.zeros([2]);
  expect(() => fusedActivation(x, "relu" as ActivationName)).toThrow(
    /activation must be one of silu, gelu, got relu/,
  );
  const ints = tf.zeros([2], "int32");
  expect(() => fusedActivation(ints, "silu")).toThrow(/x must be float32, got int32/);
  tf.dispose([x, ints]);
  await useBackend("wasm");
});
