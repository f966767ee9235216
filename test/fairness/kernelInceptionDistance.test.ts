/**
 * Kernel Inception Distance: the value equals the same formula computed by NumPy on the same
 * rows; with no difference between the sides it sits near 0 and its half-sampling interval covers
 * 0 at every n, while FID on the same draws grows as n shrinks; a shift gives an interval above
 * 0; the interval covers the truth in ≥ 90 % of seeded null draws; every half-sample's KID is
 * the KID of its own rows (also across kernel blocks); bad input is refused by name.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { peerHasModules, peerPython } from "../../bench/peers/python";
import { fidOfRows } from "../../src/audit/qualityFid";
import type { FeatureMatrix } from "../../src/fairness/featureMatrix";
import { intervalContains } from "../../src/fairness/interval";
import {
  kernelInceptionDistance,
  kidHalfSamples,
} from "../../src/fairness/kernelInceptionDistance";
import { encodeNpy } from "../../src/io/npy";
import { createRng } from "../../src/util/random";
import { testWhen } from "../helpers/requirements";

const hasNumpy = peerHasModules(["numpy"]);

/** n seeded rows of N(shift·1, I) in d dimensions. */
function gaussianRows(n: number, d: number, seed: number, shift = 0): FeatureMatrix {
  const rng = createRng(seed);
  return { values: Float64Array.from({ length: n * d }, () => rng.normal() + shift), dimension: d };
}

const firstRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** The same estimator in NumPy, on the same rows, exchanged as float64 .npy files. */
function numpyKid(
  x: FeatureMatrix,
  xRows: ArrayLike<number>,
  y: FeatureMatrix,
  yRows: ArrayLike<number>,
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-kid-"));
  try {
    const save = (name: string, m: FeatureMatrix, rows: ArrayLike<number>) => {
      const file = path.join(dir, `${name}.npy`);
      fs.writeFileSync(file, encodeNpy(m.values, [m.values.length / m.dimension, m.dimension]));
      fs.writeFileSync(
        path.join(dir, `${name}-rows.npy`),
        encodeNpy(Float64Array.from(rows), [rows.length]),
      );
    };
    save("x", x, xRows);
    save("y", y, yRows);
    const script = `
import sys, numpy as np
d = sys.argv[1]
X = np.load(d + "/x.npy")[np.load(d + "/x-rows.npy").astype(int)]
Y = np.load(d + "/y.npy")[np.load(d + "/y-rows.npy").astype(int)]
k = lambda A, B: (A @ B.T / A.shape[1] + 1.0) ** 3
m, n = len(X), len(Y)
Kxx, Kyy, Kxy = k(X, X), k(Y, Y), k(X, Y)
value = (Kxx.sum() - np.trace(Kxx)) / (m * (m - 1)) + (Kyy.sum() - np.trace(Kyy)) / (n * (n - 1)) - 2 * Kxy.sum() / (m * n)
print(repr(float(value)))
`;
    return Number(execFileSync(peerPython(), ["-c", script, dir], { encoding: "utf8" }).trim());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

testWhen(hasNumpy, "python3-numpy (apt install python3-numpy)")(
  "the value equals NumPy's computation of the same formula, unequal m and n, picked rows",
  () => {
    const cases = [
      { d: 16, m: 37, n: 23, shift: 0.4 },
      { d: 64, m: 150, n: 90, shift: 0.2 },
    ];
    for (const c of cases) {
      const x = gaussianRows(c.m + 10, c.d, c.d);
      const y = gaussianRows(c.n + 10, c.d, c.d + 1, c.shift);
      // Row lists that skip and reorder rows: the figure must use exactly these.
      const xRows = Array.from({ length: c.m }, (_, i) => (i * 7) % (c.m + 10));
      const yRows = Array.from({ length: c.n }, (_, i) => c.n + 9 - i);
      const ours = kernelInceptionDistance(x, xRows, y, yRows).value;
      const peer = numpyKid(x, xRows, y, yRows);
      expect(Math.abs(ours - peer) / Math.abs(peer)).toBeLessThanOrEqual(1e-9);
    }
  },
  20_000,
);

test("no difference: KID ≈ 0 with an interval covering 0 at n = 20, 50, 200; FID grows as n shrinks", () => {
  const d = 32;
  const x = gaussianRows(200, d, 11);
  const y = gaussianRows(200, d, 12);
  const shifted = gaussianRows(200, d, 12, 0.5);
  const shiftedKid = kernelInceptionDistance(x, firstRows(200), shifted, firstRows(200)).value;
  const fid: number[] = [];
  for (const n of [20, 50, 200]) {
    const rows = firstRows(n);
    const kid = kernelInceptionDistance(x, rows, y, rows, { seed: n });
    expect(kid).toMatchObject({ nGenerated: n, nReal: n });
    expect(intervalContains(kid.interval!, 0)).toBe(true);
    expect(Math.abs(kid.value)).toBeLessThan(0.1 * shiftedKid);
    fid.push(fidOfRows(x, rows, y, rows).value);
  }
  // Same draws, fewer of them: FID's small-sample bias shows, KID's does not.
  expect(fid[0]).toBeGreaterThan(fid[1]);
  expect(fid[1]).toBeGreaterThan(fid[2]);
});

test("a shifted distribution gives a KID interval above 0", () => {
  const d = 32;
  const x = gaussianRows(50, d, 21);
  const y = gaussianRows(50, d, 22, 0.5);
  const kid = kernelInceptionDistance(x, firstRows(50), y, firstRows(50), { seed: 3 });
  expect(kid.interval!.lower).toBeGreaterThan(0);
  expect(kid.interval).toMatchObject({
    estimate: kid.value,
    level: 0.95,
    n: 100,
    resamples: 100,
    seed: 3,
    method: expect.stringMatching(/^half-sampling/),
  });
  // The seed fixes the half-samples: the same interval again, another one from another seed.
  const again = kernelInceptionDistance(x, firstRows(50), y, firstRows(50), { seed: 3 });
  expect(again).toEqual(kid);
  const other = kernelInceptionDistance(x, firstRows(50), y, firstRows(50), { seed: 4 });
  expect(other.value).toBe(kid.value);
  expect(other.interval!.lower).not.toBe(kid.interval!.lower);
});

test("the 95 % interval covers the true KID (0) in ≥ 90 % of 100 seeded null draws", () => {
  const d = 16;
  const n = 30;
  let covered = 0;
  for (let draw = 0; draw < 100; draw++) {
    const x = gaussianRows(n, d, 1000 + 2 * draw);
    const y = gaussianRows(n, d, 1001 + 2 * draw);
    const kid = kernelInceptionDistance(x, firstRows(n), y, firstRows(n), { seed: draw });
    if (intervalContains(kid.interval!, 0)) covered += 1;
  }
  expect(covered).toBeGreaterThanOrEqual(90);
});

test("each half-sample's KID is the KID of its own rows, also when the kernels span blocks", () => {
  // 2100 columns: a block holds 1997 rows, so the kernels are built in two blocks.
  const d = 8;
  const x = gaussianRows(2100, d, 31);
  const y = gaussianRows(2100, d, 32, 0.1);
  const all = firstRows(2100);
  const halves = kidHalfSamples(x, all, y, all, { subsets: 3, seed: 5 });
  expect(halves.value).toBeCloseTo(kernelInceptionDistance(x, all, y, all).value, 12);
  for (let s = 0; s < 3; s++) {
    expect(halves.generatedRows[s]).toHaveLength(1050);
    expect(new Set(halves.generatedRows[s]).size).toBe(1050); // without replacement
    const direct = kernelInceptionDistance(x, halves.generatedRows[s], y, halves.realRows[s]);
    expect(Math.abs(halves.values[s] - direct.value)).toBeLessThan(1e-9 * Math.abs(direct.value));
  }
  // Small sets, many subsets: the same, through the half-sampling bookkeeping of overlapping
  // subsets.
  const small = kidHalfSamples(x, [5, 9, 2, 40, 7, 11, 3], y, [8, 1, 30, 22, 6], {
    subsets: 20,
    seed: 9,
  });
  small.values.forEach((value, s) => {
    expect(small.generatedRows[s]).toHaveLength(3);
    expect(small.realRows[s]).toHaveLength(2);
    const direct = kernelInceptionDistance(x, small.generatedRows[s], y, small.realRows[s]);
    expect(value).toBeCloseTo(direct.value, 10);
  });
});

test("bad input is refused, naming the value", () => {
  const x = gaussianRows(6, 4, 1);
  const y = gaussianRows(6, 4, 2);
  const rows = firstRows(6);
  expect(() => kernelInceptionDistance(x, [0], y, rows)).toThrow(
    /KID needs at least 2 generated rows, got 1/,
  );
  expect(() => kernelInceptionDistance(x, rows, y, [3])).toThrow(/at least 2 real rows, got 1/);
  expect(() => kernelInceptionDistance(x, [0, 1, 2], y, rows, { seed: 1 })).toThrow(
    /a KID interval needs at least 4 generated rows .* got 3/,
  );
  expect(() => kernelInceptionDistance(x, rows, y, rows, { seed: 1, subsets: 0 })).toThrow(
    /KID interval subsets must be a positive integer, got 0/,
  );
  expect(() => kernelInceptionDistance(x, rows, y, rows, { seed: 1, level: 1.5 })).toThrow(
    /level must be in \(0, 1\), got 1\.5/,
  );
  expect(() => kernelInceptionDistance(x, rows, y, rows, { seed: 0.5 })).toThrow(
    /KID interval seed must be an integer, got 0\.5/,
  );
  expect(() => kernelInceptionDistance(x, [0, 6], y, rows)).toThrow(
    /generated features row 1 is 6, not a row index in \[0, 6\)/,
  );
  expect(() => kernelInceptionDistance(x, rows, gaussianRows(6, 5, 3), rows)).toThrow(
    /one feature dimension: generated features have 4, real features 5/,
  );
});
