/**
 * Kernel replay (src/backend/kernelReplay.ts) against the eager step it records, on cpu, wasm
 * and WebGPU: a small network's loss and gradients (convolution, matmul, concat, reshape, a
 * constant the step uploads) bit-identical over steps with new inputs and weights changed in
 * between (assigned, or updated in place by AdamW); no tensor or backend buffer left behind; a
 * step that reads values mid-way refused and run eagerly; a plan recorded again for inputs of
 * other shapes, a kernel registered anew or a disposed weight; a kernel that throws mid-replay
 * handled without a leak.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  recordStep,
  replayStep,
  ReplayedStep,
  type ReplayPlan,
} from "../../src/backend/kernelReplay";
import { nativeKernelsActive } from "../../src/backend/nativeKernels/registerNativeKernels";
import { buildOptimizer } from "../../src/parallel/optimizerSpec";
import { eachBackend, seeded, type FusedBackend } from "../fusedKernels/backendsUnderTest";

interface Net {
  filter: tf.Variable;
  weight: tf.Variable;
  bias: tf.Variable;
}

function makeNet(seed: number): Net {
  // In a tidy: a variable shares its initial tensor's buffer, which must not outlive it.
  return tf.tidy(() => ({
    filter: tf.variable(tf.tensor4d(seeded(3 * 3 * 2 * 4, seed, 0.5), [3, 3, 2, 4])),
    weight: tf.variable(tf.tensor2d(seeded(4 * 4 * 8 * 3, seed + 1, 0.2), [4 * 4 * 8, 3])),
    bias: tf.variable(tf.tensor1d(seeded(3, seed + 2, 0.1))),
  }));
}

function disposeNet(net: Net): void {
  tf.dispose([net.filter, net.weight, net.bias]);
}

/** The loss and its gradients: what a training step records. */
function stepOf(net: Net, x: tf.Tensor4D, target: tf.Tensor2D): () => tf.Tensor[] {
  const variables = [net.filter, net.weight, net.bias];
  return () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const features = tf.relu(tf.conv2d(x, net.filter as tf.Tensor4D, 1, "same"));
        const doubled = tf.concat([features, tf.mul(features, 0.5)], 3); // uploads 0.5
        const flat = tf.reshape(doubled, [x.shape[0], -1]);
        const out = tf.add(tf.matMul(flat as tf.Tensor2D, net.weight as tf.Tensor2D), net.bias);
        return tf.mean(tf.square(tf.sub(out, target))) as tf.Scalar;
      }, variables);
      return [value, ...variables.map((v) => grads[v.name])];
    });
}

function inputsFor(seed: number, batch = 2): [tf.Tensor4D, tf.Tensor2D] {
  return [
    tf.tensor4d(seeded(batch * 4 * 4 * 2, seed), [batch, 4, 4, 2]),
    tf.tensor2d(seeded(batch * 3, seed + 7), [batch, 3]),
  ];
}

async function valuesOf(tensors: tf.Tensor[]): Promise<number[][]> {
  return Promise.all(tensors.map(async (t) => Array.from(await t.data())));
}

/** Buffers the backend holds and tensors the engine tracks. */
function counts(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

async function onBackend(backend: FusedBackend): Promise<void> {
  await useBackend(backend);
  expect(tf.getBackend()).toBe(backend);
}

afterAll(() => useBackend("wasm"));

describe("kernel replay", () => {
  eachBackend("replays a step bit-identically to the eager step, without leaks", async (b) => {
    await onBackend(b);
    const net = makeNet(1);
    const [x0, t0] = inputsFor(10);
    const backendObject = tf.backend();
    const { write, readSync } = backendObject;
    const conv = tf.getKernel("Conv2D", b)?.kernelFunc;
    const recording = recordStep([x0, t0], stepOf(net, x0, t0));
    expect(recording.reason).toBeUndefined();
    // What the recording watched is as it was.
    expect([backendObject.write, backendObject.readSync]).toEqual([write, readSync]);
    expect(tf.getKernel("Conv2D", b)?.kernelFunc).toBe(conv);
    const plan = recording.plan as ReplayPlan;
    expect(plan.kernels).toBeGreaterThan(10);
    const recorded = await valuesOf(recording.outputs);
    tf.dispose([...recording.outputs, x0, t0]);
    const before = counts();
    for (let round = 0; round < 3; round++) {
      // New inputs each round, and a weight changed between rounds.
      const [x, target] = inputsFor(20 + round);
      const replayed = replayStep(plan, [x, target]) as tf.Tensor[];
      const eager = stepOf(net, x, target)();
      expect(replayed.map((t) => t.shape)).toEqual(eager.map((t) => t.shape));
      expect(await valuesOf(replayed)).toEqual(await valuesOf(eager));
      if (round === 0) expect(await valuesOf(replayed)).not.toEqual(recorded);
      tf.dispose([...replayed, ...eager, x, target]);
      tf.tidy(() => net.weight.assign(tf.mul(net.weight, 1.5)));
      expect(counts()).toEqual(before);
    }
    disposeNet(net);
  });

  test("follows weights AdamW updates in place (wasm, native kernels)", async () => {
    await onBackend("wasm");
    const net = makeNet(2);
    const variables = [net.filter, net.weight, net.bias];
    const optimizer = buildOptimizer({ name: "adamw", learningRate: 0.05, weightDecay: 0.01 });
    const inPlace = nativeKernelsActive();
    const buffer = net.weight.dataId;
    const [x, target] = inputsFor(30);
    const replayed = new ReplayedStep();
    const inputs = [x, target];
    for (let step = 0; step < 4; step++) {
      const [value, ...grads] = replayed.run(inputs, stepOf(net, x, target));
      const eager = stepOf(net, x, target)();
      expect(await valuesOf([value, ...grads])).toEqual(await valuesOf(eager));
      optimizer.apply(variables, grads, 0.05);
      // Where the native kernels run, the weights change in the buffer the plan reads.
      if (inPlace) expect(net.weight.dataId).toBe(buffer);
      tf.dispose([value, ...grads, ...eager]);
    }
    expect(replayed.kernels(inputs)).toBeGreaterThan(10);
    expect(replayed.refusal(inputs)).toBeUndefined();
    optimizer.dispose();
    tf.dispose([x, target]);
    disposeNet(net);
  });

  test("a step that reads values mid-way is refused and runs eagerly", async () => {
    await onBackend("cpu");
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const x = tf.tensor1d([0.5, -1, 2]);
    let reads = 0;
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const y = tf.mul(w, x);
          reads++;
          // A data-dependent branch: replay would keep the first answer.
          return (y.dataSync()[0] > 0 ? tf.sum(y) : tf.sum(tf.neg(y))) as tf.Scalar;
        }, [w]);
        return [value, grads[w.name]];
      });
    const replayed = new ReplayedStep();
    for (let i = 0; i < 2; i++) tf.dispose(replayed.run([x], step));
    expect(replayed.refusal([x])).toBe("the step reads a tensor's values");
    expect(reads).toBe(2);
    tf.dispose([w, x]);
  });

  test("a plan asks to be recorded again: other input shapes, a kernel registered anew, a disposed weight", async () => {
    await onBackend("cpu");
    const net = makeNet(3);
    const [x, target] = inputsFor(40);
    const { outputs, plan } = recordStep([x, target], stepOf(net, x, target));
    tf.dispose(outputs);
    const recorded = plan as ReplayPlan;
    // Inputs of another batch size.
    const [x3, target3] = inputsFor(41, 3);
    expect(replayStep(recorded, [x3, target3])).toBeUndefined();
    // The same kernel function under a new registration.
    const add = tf.getKernel("Add", "cpu") as tf.KernelConfig;
    tf.unregisterKernel("Add", "cpu");
    tf.registerKernel({ ...add });
    try {
      expect(replayStep(recorded, [x, target])).toBeUndefined();
    } finally {
      tf.unregisterKernel("Add", "cpu");
      tf.registerKernel(add);
    }
    const replayed = replayStep(recorded, [x, target]) as tf.Tensor[];
    expect(replayed).toHaveLength(4);
    tf.dispose(replayed);
    disposeNet(net);
    expect(replayStep(recorded, [x, target])).toBeUndefined();
    tf.dispose([x, target, x3, target3]);
  });

  test("a kernel that throws mid-replay frees what the replay made", async () => {
    await onBackend("cpu");
    let fail = false;
    const addConfig = tf.getKernel("Add", "cpu") as tf.KernelConfig;
    const add = addConfig.kernelFunc;
    const net = makeNet(4);
    const [x, target] = inputsFor(50);
    const { outputs, plan } = recordStep([x, target], stepOf(net, x, target));
    tf.dispose(outputs);
    const before = counts();
    addConfig.kernelFunc = (args) => {
      if (fail) throw new Error("kernel failed");
      return add(args);
    };
    try {
      fail = true;
      expect(() => replayStep(plan as ReplayPlan, [x, target])).toThrow("kernel failed");
    } finally {
      addConfig.kernelFunc = add;
    }
    expect(counts()).toEqual(before);
    tf.dispose([x, target]);
    disposeNet(net);
  });
});
