/**
 * A training step whose loss, gradient or update is not finite is refused before it changes the
 * weights, and the step loops (trainingLoop for the autoencoder/denoiser trainers, methodRunLoop
 * for the three fairness methods) stop with an error that names the step, the learning rate and
 * the last good state, saving nothing more. Refused steps leak no tensors.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import type { ArrayBatch, TrainableModel } from "../../src/backend/trainableModel";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint";
import { gradientStep } from "../../src/methods/gradientStep";
import { methodRunLoop, type MethodRun } from "../../src/methods/methodRunLoop";
import { EvaluationClock } from "../../src/methods/periodicEvaluation";
import { AdamW } from "../../src/parallel/adamW";
import { DataParallelTrainer } from "../../src/parallel/dataParallelTrainer";
import { NonFiniteStepError } from "../../src/parallel/nonFiniteStep";
import { buildOptimizer } from "../../src/parallel/optimizerSpec";
import { trainingLoop } from "../../src/pipeline/trainingLoop";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";

let dir: string;
beforeAll(async () => {
  await useBackend("wasm");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-non-finite-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Least squares on 4 weights: learning rate 1e30 sends them to ~1e30, the next loss to Inf. */
function linearModel(): TrainableModel {
  const w = tf.variable(tf.tensor1d([0.5, -0.25, 1, 2]));
  return {
    variables: [w],
    loss: (b) => tf.mean(tf.square(tf.sub(tf.sum(tf.mul(b.x, w), 1), b.y))) as tf.Scalar,
    dispose: () => w.dispose(),
  };
}

function linearBatch(step: number): ArrayBatch {
  const x = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + step));
  const y = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i * step));
  return { x: { values: x, shape: [8, 4] }, y: { values: y, shape: [8] } };
}

async function linearTrainer(model: TrainableModel): Promise<DataParallelTrainer> {
  return DataParallelTrainer.create({
    replicas: 1,
    // Unused: the trainer's only replica is the model passed as `local`.
    model: { module: "unused", exportName: "unused", options: {} },
    optimizer: { name: "adamw", learningRate: 1, weightDecay: 0 },
    local: model,
  });
}

/** Runs a loop to its end or its error; returns the error. */
async function errorOf(events: AsyncGenerator<unknown, unknown>): Promise<Error> {
  try {
    for await (const _ of events);
  } catch (error) {
    return error as Error;
  }
  throw new Error("the run finished without an error");
}

function copies(weights: Float32Array[]): Float32Array[] {
  return weights.map((w) => Float32Array.from(w));
}

test("trainingLoop: a huge learning rate stops at the first non-finite loss; the last state stays", async () => {
  const model = linearModel();
  const trainer = await linearTrainer(model);
  const stateFile = path.join(dir, "loop.state.fdckpt");
  const saved: { step: number; weights: Float32Array[] }[] = [];
  try {
    const before = tf.memory().numTensors;
    const error = await errorOf(
      trainingLoop({
        trainer,
        startStep: 0,
        totalSteps: 5,
        schedule: { peak: 1e30, warmupSteps: 0, totalSteps: 5 },
        makeBatch: linearBatch,
        checkpointEvery: 1,
        checkpoint: async (stepsDone) => {
          const weights = copies(await trainer.weights());
          saved.push({ step: stepsDone, weights });
          saveCheckpoint(stateFile, {
            kind: "test-state",
            metadata: { step: stepsDone },
            tensors: { w: { values: weights[0], shape: [4] } },
          });
          return stateFile;
        },
      }),
    );
    expect(error.message).toMatch(
      new RegExp(
        `^step 2: the loss is Infinity \\(learning rate [0-9.]+e29 too high\\?\\); stopped without saving — the last good state is in ${stateFile.replace(/[.]/g, "\\.")} \\(step 1\\)$`,
      ),
    );
    expect(error.cause).toBeInstanceOf(NonFiniteStepError);
    // Only step 1 was saved, the file still holds it, and the refused step changed no weight.
    expect(saved.map((s) => s.step)).toEqual([1]);
    const state = loadCheckpoint<{ step: number }>(stateFile, "test-state");
    expect(state.metadata.step).toBe(1);
    expect(Array.from(state.tensors.w.values)).toEqual(Array.from(saved[0].weights[0]));
    expect(Array.from((await trainer.weights())[0])).toEqual(Array.from(saved[0].weights[0]));
    // The optimizer's moments (made on step 1) are the only new tensors.
    expect(tf.memory().numTensors).toBe(before + 2);
  } finally {
    await trainer.dispose();
  }
});

test("an update that overflows float32 is refused before any weight or moment changes", async () => {
  const model = linearModel();
  const trainer = await linearTrainer(model);
  try {
    const start = copies(await trainer.weights());
    const error = await errorOf(
      trainingLoop({
        trainer,
        startStep: 0,
        totalSteps: 3,
        schedule: { peak: 1e39, warmupSteps: 0, totalSteps: 3 },
        makeBatch: linearBatch,
      }),
    );
    expect(error.message).toBe(
      "step 1: the update would make weights NaN/Inf (learning rate 1e39 too high?); stopped without saving — no state saved yet",
    );
    expect(Array.from((await trainer.weights())[0])).toEqual(Array.from(start[0]));
    expect((await trainer.optimizerState()).iterations).toBe(0);
    // Refused steps leak nothing (the first one makes the optimizer's moments).
    await expectNoTensorLeak(async () => {
      await expect(trainer.step(linearBatch(0), { learningRate: 1e39 })).rejects.toThrow(
        NonFiniteStepError,
      );
    });
    expect(Array.from((await trainer.weights())[0])).toEqual(Array.from(start[0]));
  } finally {
    await trainer.dispose();
  }
});

test("gradientStep refuses a NaN loss or an overflowing update, changing nothing, leaking nothing", async () => {
  for (const optimizer of [
    new AdamW({ learningRate: 1, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }),
    buildOptimizer({ name: "sgd", learningRate: 1 }),
  ]) {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const start = Array.from(await v.data());
    const step = (learningRate: number, scale: number) =>
      gradientStep(
        [v],
        optimizer,
        () => ({ total: tf.mul(tf.sum(tf.square(v)), scale) as tf.Scalar, side: [] }),
        async () => undefined,
        { learningRate, clipNorm: 1 },
      );
    await expect(step(0.1, Number.NaN)).rejects.toThrow(
      "the loss is NaN (learning rate 0.1 too high?)",
    );
    await expect(step(1e39, 1)).rejects.toThrow(
      "the update would make weights NaN/Inf (learning rate 1e39 too high?)",
    );
    expect(Array.from(await v.data())).toEqual(start);
    expect((await optimizer.state()).iterations).toBe(0);
    await expectNoTensorLeak(() => expect(step(1e39, 1)).rejects.toThrow(NonFiniteStepError));
    // A sound step still applies.
    await step(0.1, 1);
    expect(Array.from(await v.data())).not.toEqual(start);
    optimizer.dispose();
    v.dispose();
  }
});

test("methodRunLoop: the fairness methods' loop stops naming the last state file, or none", async () => {
  const run = (stateFile: string | undefined, checkpointEvery: number | undefined) => {
    const v = tf.variable(tf.tensor1d([0.5, -1]));
    const optimizer = new AdamW({
      learningRate: 1e30,
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
    });
    const saves: number[] = [];
    const method: MethodRun = {
      clock: new EvaluationClock(),
      step: async () => {
        const outcome = await gradientStep(
          [v],
          optimizer,
          () => ({ total: tf.sum(tf.square(tf.sub(v, 3))) as tf.Scalar, side: [] }),
          async () => undefined,
          { learningRate: 1e30 },
        );
        return {
          images: 1,
          losses: { total: outcome.loss },
          target: {},
          detail: {},
          biasEstimate: {},
          learningRate: 1e30,
        };
      },
      saveState: async (file, stepsDone) => {
        saves.push(stepsDone);
        const values = Float32Array.from(await v.data());
        saveCheckpoint(file, {
          kind: "t",
          metadata: { stepsDone },
          tensors: { v: { values, shape: [2] } },
        });
      },
      restoreState: () => 0,
      evaluate: () => Promise.reject(new Error("no evaluation in this run")),
    };
    const loop = methodRunLoop("align", { steps: 4, stateFile, checkpointEvery }, method);
    return {
      error: errorOf(loop).finally(() => {
        optimizer.dispose();
        v.dispose();
      }),
      saves,
    };
  };
  const stateFile = path.join(dir, "method.state.fdckpt");
  const withState = run(stateFile, 1);
  expect((await withState.error).message).toBe(
    `step 2: the loss is Infinity (learning rate 1e30 too high?); stopped without saving — the last good state is in ${stateFile} (step 1)`,
  );
  expect(withState.saves).toEqual([1]);
  expect(loadCheckpoint<{ stepsDone: number }>(stateFile).metadata.stepsDone).toBe(1);

  const without = run(undefined, undefined);
  expect((await without.error).message).toBe(
    "step 2: the loss is Infinity (learning rate 1e30 too high?); stopped without saving — no state saved yet",
  );
});
