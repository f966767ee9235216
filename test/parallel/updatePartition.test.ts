/** Data-parallel replicas' parts of the variables: consecutive, covering, nearly equal. */
import { updatePartition } from "../../src/parallel/updatePartition";

test("parts cover every variable once, in order, cut near equal element counts", () => {
  const lengths = [10, 300, 7, 7, 200, 90, 1, 400];
  const total = lengths.reduce((a, b) => a + b, 0);
  for (const parts of [1, 2, 3, 4]) {
    const ranges = updatePartition(lengths, parts);
    expect(ranges).toHaveLength(parts);
    expect(ranges[0]).toMatchObject({ firstVariable: 0, start: 0 });
    expect(ranges[parts - 1]).toMatchObject({ endVariable: lengths.length, end: total });
    ranges.forEach((range, p) => {
      if (p > 0) {
        expect(range.firstVariable).toBe(ranges[p - 1].endVariable);
        expect(range.start).toBe(ranges[p - 1].end);
      }
      const size = lengths.slice(range.firstVariable, range.endVariable).reduce((a, b) => a + b, 0);
      expect(range.end - range.start).toBe(size);
    });
  }
  // Two parts: the cut nearest half (after 10, 300, 7, 7 → 324 of 1015; after 200 → 524).
  expect(updatePartition(lengths, 2).map((r) => r.end)).toEqual([524, total]);
});

test("more parts than variables leave parts empty; a bad count is refused", () => {
  const ranges = updatePartition([5, 5], 4);
  expect(ranges.map((r) => r.endVariable - r.firstVariable).reduce((a, b) => a + b, 0)).toBe(2);
  expect(ranges.filter((r) => r.end === r.start).length).toBe(2);
  expect(() => updatePartition([5], 0)).toThrow(/whole number of parts ≥ 1, got 0/);
});
