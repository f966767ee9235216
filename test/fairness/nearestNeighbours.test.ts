/**
 * The exact nearest-neighbour search against a plain double loop: same rows, same distances,
 * with candidate sets, leave-one-out, ties, empty sets and batches of queries.
 */
import {
  nearestNeighbours,
  neighbourSearch,
  type RowMatrix,
} from "../../src/fairness/nearestNeighbours";
import { createRng } from "../../src/util/random";

function randomRows(n: number, d: number, seed: number): RowMatrix {
  const rng = createRng(seed);
  // Rows of different scales so the norm-ordered walk has something to prune.
  const values = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const scale = 0.5 + rng.next() * 2;
    for (let j = 0; j < d; j++) values[i * d + j] = scale * rng.normal() + (j % 5) * 0.3;
  }
  return { values, dimension: d };
}

function bruteForce(
  queries: RowMatrix,
  references: RowMatrix,
  candidates: (i: number) => readonly number[],
  excluded: (i: number) => number,
): { index: number; distance: number }[] {
  const d = queries.dimension;
  return Array.from({ length: queries.values.length / d }, (_, i) => {
    let best = { index: -1, distance: Infinity };
    for (const r of candidates(i)) {
      if (r === excluded(i)) continue;
      let sum = 0;
      for (let j = 0; j < d; j++) {
        const diff = queries.values[i * d + j] - references.values[r * d + j];
        sum += diff * diff;
      }
      const distance = Math.sqrt(sum);
      if (distance < best.distance || (distance === best.distance && r < best.index)) {
        best = { index: r, distance };
      }
    }
    return best;
  });
}

test("matches a double loop, over all references and over candidate sets with leave-one-out", () => {
  const d = 37; // not a multiple of the 16-term abandoning block
  const references = randomRows(300, d, 1);
  const queries = randomRows(60, d, 2);
  const all = Array.from({ length: 300 }, (_, i) => i);
  const none = () => -1;
  const found = nearestNeighbours(queries, references);
  bruteForce(queries, references, () => all, none).forEach((expected, i) => {
    expect(found.index[i]).toBe(expected.index);
    expect(found.distance[i]).toBeCloseTo(expected.distance, 10);
  });

  // Candidate sets by "group" (row mod 3), leaving row i out for query i (queries = references).
  const groups = [0, 1, 2].map((g) => all.filter((r) => r % 3 === g));
  const candidates = (i: number) => groups[i % 3];
  const self = (i: number) => i;
  const loo = nearestNeighbours(references, references, { candidates, excluded: self });
  bruteForce(references, references, candidates, self).forEach((expected, i) => {
    expect(loo.index[i]).toBe(expected.index);
    expect(loo.index[i] % 3).toBe(i % 3);
    expect(loo.index[i]).not.toBe(i);
    expect(loo.distance[i]).toBeCloseTo(expected.distance, 10);
  });
});

test("float32 rows, ties to the lower index, empty candidate sets, batches of one search", () => {
  const d = 20;
  const base = randomRows(40, d, 3);
  // Reference rows 10 and 30 are the same row: a query equal to it matches 10 at distance 0.
  const values = Float32Array.from(base.values);
  values.set(values.subarray(10 * d, 11 * d), 30 * d);
  const references = { values, dimension: d };
  const queries = { values: Float32Array.from(values.subarray(30 * d, 32 * d)), dimension: d };
  const empty: number[] = [];
  const search = neighbourSearch(references);
  const found = search.nearest(queries, { candidates: (i) => (i === 0 ? [30, 10, 5] : empty) });
  expect(found.index[0]).toBe(10);
  expect(found.distance[0]).toBe(0);
  expect(found.index[1]).toBe(-1);
  expect(found.distance[1]).toBe(Infinity);

  const many = randomRows(25, d, 4);
  const whole = search.nearest(many);
  const first = search.nearest({ values: many.values.subarray(0, 10 * d), dimension: d });
  const rest = search.nearest({ values: many.values.subarray(10 * d), dimension: d });
  expect([...first.index, ...rest.index]).toEqual([...whole.index]);
  expect([...first.distance, ...rest.distance]).toEqual([...whole.distance]);
});

test("bad input is refused, naming what is wrong", () => {
  const references = randomRows(5, 4, 5);
  expect(() => nearestNeighbours(randomRows(2, 3, 6), references)).toThrow(
    /queries have 3 dimensions, references 4/,
  );
  expect(() =>
    nearestNeighbours({ values: new Float64Array(7), dimension: 4 }, references),
  ).toThrow(/queries: 7 values is not a whole number of rows of 4/);
  expect(() => nearestNeighbours(references, references, { candidates: () => [0, 9] })).toThrow(
    /candidate row 9 is not a reference row \(0 … 4\)/,
  );
});
