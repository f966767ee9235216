import { createRng } from "../../src/util/random";

test("the same seed gives the same stream; different seeds differ", () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const seqA = Array.from({ length: 20 }, () => a.next());
  const seqB = Array.from({ length: 20 }, () => b.next());
  const seqC = Array.from({ length: 20 }, () => c.next());
  expect(seqA).toEqual(seqB);
  expect(seqA).not.toEqual(seqC);
  expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
});

test("uniform and normal draws have the right moments", () => {
  const rng = createRng(1);
  const n = 20000;
  let sum = 0;
  let sumNormal = 0;
  let sumNormalSq = 0;
  for (let i = 0; i < n; i++) {
    sum += rng.next();
    const z = rng.normal();
    sumNormal += z;
    sumNormalSq += z * z;
  }
  expect(sum / n).toBeCloseTo(0.5, 1);
  expect(sumNormal / n).toBeCloseTo(0, 1);
  expect(sumNormalSq / n).toBeCloseTo(1, 1);
});

test("forks are independent of the parent's position and repeatable", () => {
  const parent = createRng(9);
  const f1 = parent.fork("data").next();
  parent.next();
  const f2 = parent.fork("data").next();
  expect(f1).toBe(f2);
  expect(parent.fork("noise").next()).not.toBe(f1);
});

test("categorical follows its weights and rejects bad ones", () => {
  const rng = createRng(3);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[rng.categorical([1, 2, 7])]++;
  expect(counts[2] / 30000).toBeCloseTo(0.7, 1);
  expect(() => rng.categorical([1, -1])).toThrow(/weight 1 is -1/);
  expect(() => createRng(1.5)).toThrow(/seed must be a finite integer/);
});

test("shuffle is a seeded permutation", () => {
  const a = createRng(5).shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
  const b = createRng(5).shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(a).toEqual(b);
  expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
});
