/**
 * AdamW in place (wasm with the native kernels): the same floats as the fused kernel, the same
 * refusal of a non-finite update (nothing written), no tensors leaked, and the kernel's copy
 * where another tensor shares a weight's buffer. With data-parallel replicas' shares read where
 * they are: the floats of the kernel applied to their sum, and that sum's norm.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { adamWInPlace } from "../../src/backend/nativeKernels/nativeAdamWInPlace";
import { AdamW } from "../../src/parallel/adamW";
import { NonFiniteStepError } from "../../src/parallel/nonFiniteStep";
import { commitChecked } from "../../src/parallel/optimizerSpec";
import { sharedReplicaShares, sumIntoFirst } from "../../src/parallel/replicaShares";
import { loadNativeKernels, type NativeAddon } from "../../src/backend/nativeKernels/nativeAddon";
import { seededValues } from "../helpers/backends";
import { nativeTest } from "../helpers/nativeKernels";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";

const OPTIONS = { learningRate: 3e-3, weightDecay: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
// Shapes on and off vector widths, one large enough to be split across the pool.
const SHAPES = [[7], [3, 5], [64, 33], [20000]];

// In a tidy: the tensor a variable is made from would otherwise share its buffer (and keep it
// off the in-place path).
const variables = (seed: number) =>
  tf.tidy(() =>
    SHAPES.map((shape, i) => {
      const size = shape.reduce((n, d) => n * d, 1);
      return tf.variable(tf.tensor(seededValues(size, seed + i), shape));
    }),
  );

/** The kernels `step` runs: none of the fused AdamW's when the update happens in place. */
async function kernelsOf(step: () => Promise<void>): Promise<string[]> {
  return (await tf.profile(step)).kernelNames;
}
const gradientsAt = (step: number) =>
  SHAPES.map((shape, i) => {
    const size = shape.reduce((n, d) => n * d, 1);
    return tf.tensor(
      seededValues(size, 100 * step + i).map((v) => v * 0.1),
      shape,
    );
  });

beforeAll(() => useBackend("wasm"));

nativeTest("gives the fused kernel's floats, step for step", async () => {
  const inPlace = variables(1);
  const kernel = variables(1);
  const [a, b] = [new AdamW(OPTIONS), new AdamW(OPTIONS)];
  const attrs = { ...OPTIONS, correction1: 0.1, correction2: 0.001, gradientScale: 1 };
  for (let step = 1; step <= 3; step++) {
    const grads = gradientsAt(step);
    const scale = step === 2 ? 0.5 : 1;
    expect(
      await kernelsOf(() => a.applyChecked(inPlace, grads, OPTIONS.learningRate, scale)),
    ).not.toContain("FairdiffFusedAdamW");
    // A reshape shares each buffer (tensors are immutable): the fused kernel's copy runs instead.
    const clones = kernel.map((v) => v.reshape(v.shape));
    const moments = kernel.map((v) => tf.zerosLike(v));
    const others = kernel.map((v) => tf.zerosLike(v));
    expect(adamWInPlace(kernel, grads, moments, others, attrs)).toBeUndefined();
    // The same tensor as both moments: never in place either.
    expect(adamWInPlace(others, grads, moments, moments, attrs)).toBeUndefined();
    const kept = await clones[0].data();
    expect(
      await kernelsOf(() => b.applyChecked(kernel, grads, OPTIONS.learningRate, scale)),
    ).toContain("FairdiffFusedAdamW");
    expect(Array.from(await clones[0].data())).toEqual(Array.from(kept));
    tf.dispose([...grads, ...clones, ...moments, ...others]);
  }
  for (let i = 0; i < SHAPES.length; i++) {
    expect(Array.from(await inPlace[i].data())).toEqual(Array.from(await kernel[i].data()));
  }
  expect(await a.state()).toEqual(await b.state());
  // One tensor as both weight and moment, or as a weight and its gradient: never in place.
  expect(adamWInPlace(inPlace, inPlace, inPlace, inPlace, attrs)).toBeUndefined();
  tf.dispose([...inPlace, ...kernel]);
  a.dispose();
  b.dispose();
});

nativeTest("refuses an overflowing update without writing, and leaks nothing", async () => {
  const params = variables(2);
  const adamW = new AdamW(OPTIONS);
  const grads = gradientsAt(1);
  await adamW.applyChecked(params, grads, OPTIONS.learningRate);
  const before = await Promise.all(params.map((p) => p.data()));
  const stateBefore = await adamW.state();
  await expect(adamW.applyChecked(params, grads, 1e39)).rejects.toThrow(NonFiniteStepError);
  const after = await Promise.all(params.map((p) => p.data()));
  after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
  expect(await adamW.state()).toEqual(stateBefore);
  await expectNoTensorLeak(() => adamW.applyChecked(params, grads, OPTIONS.learningRate));
  tf.dispose([...params, ...grads]);
  adamW.dispose();
});

nativeTest(
  "checks resting on the last update's bounds still refuse NaN, ±Inf and replaced moments",
  async () => {
    const params = variables(3);
    const adamW = new AdamW(OPTIONS);
    const grads = gradientsAt(1);
    // The first update leaves bounds; the next checks may rest on them.
    await adamW.applyChecked(params, grads, OPTIONS.learningRate);
    await adamW.applyChecked(params, grads, OPTIONS.learningRate);
    const before = await Promise.all(params.map((p) => p.data()));
    const unchanged = async () => {
      const after = await Promise.all(params.map((p) => p.data()));
      after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
    };
    for (const bad of [NaN, Infinity, -Infinity]) {
      const poisoned = grads.map((g, i) =>
        i === 3 ? tf.tidy(() => tf.concat([tf.fill([1], bad), g.slice(1)])) : g.clone(),
      );
      await expect(adamW.applyChecked(params, poisoned, OPTIONS.learningRate)).rejects.toThrow(
        NonFiniteStepError,
      );
      await unchanged();
      tf.dispose(poisoned);
    }
    // Moments restored from elsewhere (new buffers): m near float's largest and v = 0 make the
    // step's division overflow, which stale bounds (small m, v) would not show.
    const state = await adamW.state();
    for (const slot of state.slots) {
      slot.values.fill(slot.name === "0/m" ? 3e38 : slot.name === "0/v" ? 0 : slot.values[0]);
    }
    adamW.setState(state);
    await expect(adamW.applyChecked(params, grads, OPTIONS.learningRate)).rejects.toThrow(
      NonFiniteStepError,
    );
    await unchanged();
    tf.dispose([...params, ...grads]);
    adamW.dispose();
  },
);

/** Each variable's summed gradient, added in replica order in float (new arrays). */
function sumOfShares(shares: Float32Array[][]): Float32Array[] {
  const [first, ...others] = shares;
  return first.map((values, i) => {
    const sum = Float32Array.from(values);
    for (const other of others) other[i].forEach((g, j) => (sum[j] += g));
    return sum;
  });
}

/** Three replicas' shares of every variable's gradient at `step`, in shared memory. */
async function sharesAt(step: number) {
  const room = sharedReplicaShares(
    SHAPES.map((shape) => shape.reduce((n, d) => n * d, 1)),
    3,
  );
  for (let replica = 0; replica < 3; replica++) {
    const grads = gradientsAt(10 * step + replica);
    for (let i = 0; i < grads.length; i++) room.shares[replica][i].set(await grads[i].data());
    tf.dispose(grads);
  }
  return room;
}

nativeTest(
  "from replicas' shares summed in host memory: the kernel's floats on their sum",
  async () => {
    const inPlace = variables(3);
    const kernel = variables(3);
    const [a, b] = [new AdamW(OPTIONS), new AdamW(OPTIONS)];
    for (let step = 1; step <= 3; step++) {
      const room = await sharesAt(step);
      const scale = step === 2 ? 0.25 : 1;
      // The sum taken in JavaScript, uploaded, through the kernel (a reshape keeps it off the
      // in-place path).
      const sums = sumOfShares(room.shares).map((values, i) => tf.tensor(values, SHAPES[i]));
      sumIntoFirst(room);
      const prepared = a.prepareFromHost(inPlace, room.shares[0], OPTIONS.learningRate, scale);
      expect(prepared?.nonFinite).toBe(0);
      if (step === 2) {
        // Published as it is written: the new weights one after another, as a replica hands over.
        const sizes = inPlace.map((v) => v.size);
        const handover = new Float32Array(new SharedArrayBuffer(4 * sizes.reduce((x, y) => x + y)));
        expect(() => prepared!.commit(new Float32Array(3))).toThrow(
          /adamWWriteCounted published holds 3 floats, the tensors \d+/,
        );
        expect(prepared!.commit(handover)).toBe(true);
        prepared!.dispose();
        const written = await Promise.all(inPlace.map(async (v) => Array.from(await v.data())));
        expect(Array.from(handover)).toEqual(written.flat());
      } else {
        commitChecked(prepared!, OPTIONS.learningRate);
      }
      const clones = kernel.map((v) => v.reshape(v.shape));
      expect(
        await kernelsOf(() => b.applyChecked(kernel, sums, OPTIONS.learningRate, scale)),
      ).toContain("FairdiffFusedAdamW");
      tf.dispose([...sums, ...clones]);
    }
    for (let i = 0; i < SHAPES.length; i++) {
      expect(Array.from(await inPlace[i].data())).toEqual(Array.from(await kernel[i].data()));
    }
    expect(await a.state()).toEqual(await b.state());
    // An overflowing update is refused with nothing written, as from tensors.
    const room = await sharesAt(9);
    const before = await Promise.all(inPlace.map((p) => p.data()));
    const overflowing = a.prepareFromHost(inPlace, room.shares[0], 1e39)!;
    expect(overflowing.nonFinite).toBeGreaterThan(0);
    expect(() => commitChecked(overflowing, 1e39)).toThrow(NonFiniteStepError);
    const after = await Promise.all(inPlace.map((p) => p.data()));
    after.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(before[i])));
    tf.dispose([...inPlace, ...kernel]);
    a.dispose();
    b.dispose();
  },
);

test.each([
  ["native where built", () => loadNativeKernels().addon],
  ["JavaScript", () => undefined],
])(
  "the shares summed into the first with their squared norm (%s): exact sums, the direct norm",
  async (_, addon) => {
    const room = await sharesAt(1);
    const sums = sumOfShares(room.shares);
    let direct = 0;
    for (const g of sums) for (const x of g) direct += x * x;
    expect(direct).toBeGreaterThan(0);
    const others = room.shares.slice(1).map((share) => share.map((g) => Float32Array.from(g)));
    // Eight lane totals in double natively, one in the loop: equal to float rounding.
    expect(sumIntoFirst(room, undefined, addon())).toBeCloseTo(direct, 6);
    room.shares[0].forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(sums[i])));
    // The other shares are read, not written.
    others.forEach((share, r) => share.forEach((g, i) => expect(room.shares[r + 1][i]).toEqual(g)));
    // In parts (data-parallel replicas each sum theirs): the same sums, the squares split.
    const parted = await sharesAt(1);
    const cut = SHAPES[0].reduce((a, b) => a * b, 1) + 3;
    const end = parted.flat[0].length;
    const first = sumIntoFirst(parted, { start: 0, end: cut }, addon());
    expect(parted.flat[0][cut]).toBe((await sharesAt(1)).flat[0][cut]);
    const second = sumIntoFirst(parted, { start: cut, end }, addon());
    expect(first).toBeGreaterThan(0);
    expect(first + second).toBeCloseTo(direct, 6);
    expect(Array.from(parted.flat[0])).toEqual(Array.from(room.flat[0]));
  },
);

nativeTest("the native sum refuses arrays of different lengths", async () => {
  const room = await sharesAt(1);
  const addon = loadNativeKernels().addon as NativeAddon;
  expect(() => addon.sumIntoFirst([room.flat[0], room.flat[1].subarray(1)])).toThrow(
    /differ in length/,
  );
});
