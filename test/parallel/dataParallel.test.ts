/**
 * Data-parallel training over worker_threads matches single-replica training with the same seed
 * (within float summation tolerance), keeps replicas identical and leaks no tensors.
 */
import * as path from "node:path";
import { useBackend } from "../../src/backend";
import { DataParallelTrainer, shardBatch } from "../../src/parallel";
import { NonFiniteStepError } from "../../src/parallel/nonFiniteStep";
import type { ArrayBatch } from "../../src/backend/trainableModel";
import { referenceBatch } from "../../src/backend/referenceConvNet";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";

const model = {
  module: path.resolve(__dirname, "../../src/backend/referenceConvNet.ts"),
  exportName: "createReferenceConvNet",
  options: { seed: 7 },
};
const workerModel = {
  ...model,
  module: path.resolve(__dirname, "../../dist/src/backend/referenceConvNet.js"),
};

function batch(seed: number, n = 8, size = 12): ArrayBatch {
  return referenceBatch(seed, n, size);
}

async function train(replicas: number, steps: number, clipNorm?: number) {
  const trainer = await DataParallelTrainer.create({
    replicas,
    // The trainer's own replica loads the TypeScript source under jest; workers load dist/.
    model: replicas === 1 ? model : workerModel,
    optimizer: { name: "adam", learningRate: 1e-2 },
    backend: "wasm",
  });
  const losses: number[] = [];
  const norms: number[] = [];
  for (let s = 0; s < steps; s++) {
    const outcome = await trainer.step(batch(100 + s), { clipNorm });
    losses.push(outcome.loss);
    norms.push(outcome.gradientNorm);
  }
  const weights = await trainer.weights();
  const workerWeights = replicas > 1 ? await trainer.workerWeights(1) : undefined;
  await trainer.dispose();
  return { losses, norms, weights, workerWeights };
}

beforeAll(async () => {
  await useBackend("wasm");
});

test("shards split a batch without losing or reordering rows", () => {
  const b = batch(1, 7);
  const shards = shardBatch(b, 3);
  expect(shards.map((s) => s.labels.shape[0])).toEqual([3, 2, 2]);
  const rejoined = shards.flatMap((s) => Array.from(s.labels.values));
  expect(rejoined).toEqual(Array.from(b.labels.values));
  expect(() => shardBatch(b, 8)).toThrow(/batch of 7 into 8/);
});

test("two replicas train like one, and stay identical to each other", async () => {
  const single = await train(1, 4);
  const dual = await train(2, 4);
  // Training really moved: the loss changed over steps.
  expect(Math.abs(single.losses[3] - single.losses[0])).toBeGreaterThan(1e-3);
  for (let s = 0; s < 4; s++) expect(dual.losses[s]).toBeCloseTo(single.losses[s], 4);
  let worst = 0;
  single.weights.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(w[j] - dual.weights[i][j]));
  });
  expect(worst).toBeLessThan(1e-4);
  // Replicas apply the same summed gradients: bitwise equal weights.
  dual.workerWeights!.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(dual.weights[i])));
}, 120000);

test("clipped: one replica (gradients, norm and clipping on the backend) trains like two", async () => {
  // One replica keeps its gradients on the backend (a norm kernel, clipping inside AdamW); two
  // sum and clip them on the host. The clip binds at every step here.
  const single = await train(1, 4, 0.05);
  const dual = await train(2, 4, 0.05);
  for (let s = 0; s < 4; s++) {
    expect(single.norms[s]).toBeGreaterThan(0.05);
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(relative(dual.norms[s], single.norms[s])).toBeLessThan(1e-5);
    expect(relative(dual.losses[s], single.losses[s])).toBeLessThan(1e-5);
  }
  let worst = 0;
  single.weights.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(w[j] - dual.weights[i][j]));
  });
  expect(worst).toBeLessThan(1e-4);
}, 120000);

test("a data-parallel step leaks no tensors in the trainer's thread", async () => {
  const trainer = await DataParallelTrainer.create({
    replicas: 2,
    model: workerModel,
    optimizer: { name: "adam", learningRate: 1e-3 },
    backend: "wasm",
  });
  try {
    await expectNoTensorLeak(() => trainer.step(batch(5)), { warmup: 1, steps: 3 });
  } finally {
    await trainer.dispose();
  }
}, 120000);

test("a bad factory name is reported with the module path", async () => {
  await expect(
    DataParallelTrainer.create({
      replicas: 1,
      model: { ...model, exportName: "nope" },
      optimizer: { name: "adam", learningRate: 1e-3 },
    }),
  ).rejects.toThrow(/no exported factory "nope"/);
});

async function makeTrainer(
  replicas: number,
  optimizer: Parameters<typeof DataParallelTrainer.create>[0]["optimizer"],
) {
  return DataParallelTrainer.create({
    replicas,
    model: replicas === 1 ? model : workerModel,
    optimizer,
    backend: "wasm",
  });
}

test("resuming from weights + optimizer state continues exactly like an uninterrupted run", async () => {
  const optimizer = { name: "adamw" as const, learningRate: 1e-2, weightDecay: 1e-2 };
  for (const replicas of [1, 2]) {
    const straight = await makeTrainer(replicas, optimizer);
    for (let s = 0; s < 4; s++) await straight.step(batch(200 + s));
    const expected = await straight.weights();
    await straight.dispose();

    const first = await makeTrainer(replicas, optimizer);
    for (let s = 0; s < 2; s++) await first.step(batch(200 + s));
    const saved = { weights: await first.weights(), optimizer: await first.optimizerState() };
    await first.dispose();
    expect(saved.optimizer.iterations).toBe(2);

    const resumed = await makeTrainer(replicas, optimizer);
    await resumed.restore(saved.weights, saved.optimizer);
    for (let s = 2; s < 4; s++) await resumed.step(batch(200 + s));
    const got = await resumed.weights();
    await resumed.dispose();
    got.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(expected[i])));
  }
}, 180000);

test("clipNorm caps the summed gradient's norm; the outcome reports the norm before clipping", async () => {
  const trainer = await makeTrainer(1, { name: "sgd", learningRate: 1 });
  const before = (await trainer.weights()).map((w) => Float32Array.from(w));
  const outcome = await trainer.step(batch(9), { clipNorm: 0.01 });
  const after = await trainer.weights();
  await trainer.dispose();
  expect(outcome.gradientNorm).toBeGreaterThan(0.01);
  let moved = 0;
  before.forEach((w, i) => w.forEach((x, j) => (moved += (after[i][j] - x) ** 2)));
  // SGD with lr 1 moves the weights by exactly the clipped gradient.
  expect(Math.sqrt(moved)).toBeCloseTo(0.01, 5);
}, 60000);

test("two replicas apply at once and refuse an overflowing update together", async () => {
  const trainer = await makeTrainer(2, { name: "adam", learningRate: 1e-2 });
  try {
    await trainer.step(batch(3));
    const local = (await trainer.weights()).map((w) => Float32Array.from(w));
    const worker = (await trainer.workerWeights(1)).map((w) => Float32Array.from(w));
    await expect(trainer.step(batch(4), { learningRate: 1e39 })).rejects.toThrow(
      NonFiniteStepError,
    );
    // Neither replica changed: both checked the same update and refused it.
    const same = (got: Float32Array[], want: Float32Array[]) =>
      got.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(want[i])));
    same(await trainer.weights(), local);
    same(await trainer.workerWeights(1), worker);
    expect((await trainer.optimizerState()).iterations).toBe(1);
    // And the next sound step still keeps them identical.
    await trainer.step(batch(5));
    const after = await trainer.workerWeights(1);
    (await trainer.weights()).forEach((w, i) =>
      expect(Array.from(after[i])).toEqual(Array.from(w)),
    );
  } finally {
    await trainer.dispose();
  }
}, 60000);

test("AdamW decays weights by lr·wd·w on top of the Adam update", async () => {
  const adam = await makeTrainer(1, { name: "adam", learningRate: 1e-2 });
  const start = (await adam.weights()).map((w) => Float32Array.from(w));
  await adam.step(batch(11));
  const plain = await adam.weights();
  await adam.dispose();
  const adamw = await makeTrainer(1, { name: "adamw", learningRate: 1e-2, weightDecay: 0.5 });
  await adamw.step(batch(11));
  const decayed = await adamw.weights();
  await adamw.dispose();
  let worst = 0;
  start.forEach((w, i) =>
    w.forEach((x, j) => {
      worst = Math.max(worst, Math.abs(plain[i][j] - decayed[i][j] - 1e-2 * 0.5 * x));
    }),
  );
  expect(worst).toBeLessThan(1e-6);
}, 60000);

test("three replicas, each updating a third of the variables, train like one and stay identical", async () => {
  const trainer = await makeTrainer(3, { name: "adam", learningRate: 1e-2 });
  try {
    for (let s = 0; s < 3; s++) {
      const { loss } = await trainer.step(batch(100 + s, 9));
      expect(Number.isFinite(loss)).toBe(true);
    }
    const weights = await trainer.weights();
    for (const index of [1, 2]) {
      const other = await trainer.workerWeights(index);
      other.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i])));
    }
    const one = await makeTrainer(1, { name: "adam", learningRate: 1e-2 });
    for (let s = 0; s < 3; s++) await one.step(batch(100 + s, 9));
    const expected = await one.weights();
    await one.dispose();
    let worst = 0;
    expected.forEach((w, i) =>
      w.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - weights[i][j])))),
    );
    expect(worst).toBeLessThan(1e-4);
  } finally {
    await trainer.dispose();
  }
}, 120000);

test("two replicas' optimizer state is one replica's, slot for slot, and resumes there", async () => {
  const optimizer = { name: "adamw" as const, learningRate: 1e-2, weightDecay: 1e-2 };
  const one = await makeTrainer(1, optimizer);
  const two = await makeTrainer(2, optimizer);
  for (let s = 0; s < 2; s++) {
    await one.step(batch(300 + s));
    await two.step(batch(300 + s));
  }
  const [stateOne, stateTwo] = [await one.optimizerState(), await two.optimizerState()];
  expect(stateTwo.slots.map((s) => [s.name, s.shape])).toEqual(
    stateOne.slots.map((s) => [s.name, s.shape]),
  );
  expect(stateTwo.iterations).toBe(2);
  let apart = 0;
  stateTwo.slots.forEach((slot, i) =>
    slot.values.forEach(
      (x, j) => (apart = Math.max(apart, Math.abs(x - stateOne.slots[i].values[j]))),
    ),
  );
  expect(apart).toBeLessThan(1e-5);
  expect(stateTwo.slots.some((slot) => slot.values.some((x) => x !== 0))).toBe(true);
  // Two replicas' checkpoint resumed by one replica continues as the two would.
  const weights = await two.weights();
  await two.step(batch(302));
  const expected = await two.weights();
  await two.dispose();
  await one.restore(weights, stateTwo);
  await one.step(batch(302));
  const got = await one.weights();
  await one.dispose();
  let worst = 0;
  expected.forEach((w, i) =>
    w.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - got[i][j])))),
  );
  expect(worst).toBeLessThan(1e-5);
}, 120000);

test("a replica that dies mid-step fails the step (no replica left waiting) and stops the trainer", async () => {
  const trainer = await makeTrainer(2, { name: "adam", learningRate: 1e-2 });
  try {
    await trainer.step(batch(1));
    const workers = (trainer as unknown as { workers: { terminate(): Promise<number> }[] }).workers;
    const step = trainer.step(batch(2));
    await workers[0].terminate();
    await expect(step).rejects.toThrow(/replica worker exited/);
    await expect(trainer.step(batch(3))).rejects.toThrow(
      /stopped at a failed step: replica worker exited/,
    );
  } finally {
    await trainer.dispose();
  }
}, 60000);

test("on cpu (the update by the fused kernel, weights assigned), two replicas train like one", async () => {
  // Nothing in place there: each replica uploads its part's summed gradient, the fused AdamW
  // kernel prepares new tensors, and the handover is read with data() and assigned. cpu is slow:
  // the one-replica reference runs on wasm, on a small batch (4 images of 8 × 8), two steps.
  const run = async (replicas: number, backend: "cpu" | "wasm") => {
    await useBackend(backend);
    const trainer = await DataParallelTrainer.create({
      replicas,
      model: replicas === 1 ? model : workerModel,
      optimizer: { name: "adamw", learningRate: 1e-2, weightDecay: 1e-2 },
      backend,
    });
    for (let s = 0; s < 2; s++) await trainer.step(batch(400 + s, 4, 8), { clipNorm: 0.05 });
    const weights = await trainer.weights();
    const worker = replicas > 1 ? await trainer.workerWeights(1) : undefined;
    const state = await trainer.optimizerState();
    await trainer.dispose();
    return { weights, worker, state };
  };
  try {
    const [one, two] = [await run(1, "wasm"), await run(2, "cpu")];
    two.worker!.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(two.weights[i])));
    let worst = 0;
    one.weights.forEach((w, i) =>
      w.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - two.weights[i][j])))),
    );
    expect(worst).toBeLessThan(1e-4);
    expect(two.state.slots.map((s) => s.name)).toEqual(one.state.slots.map((s) => s.name));
  } finally {
    await useBackend("wasm");
  }
}, 120000);
