import {
  createSyntheticCohort,
  formatSummary,
  iterateBatches,
  PLEURAL_EFFUSION,
  stratifiedSplit,
  stratumOf,
  summarizeDataset,
  type SampleRecord,
} from "../../src/data";

const cohort = createSyntheticCohort({ cohort: "cxr", size: 600, seed: 4, imageSize: 16 });

describe("stratified splits", () => {
  test("every subgroup × label cell keeps its share in each split, reproducibly", () => {
    const split = stratifiedSplit(cohort.records, {
      fractions: { train: 0.75, test: 0.25 },
      seed: 1,
    });
    expect(split.train.length + split.test.length).toBe(600);
    expect(new Set([...split.train, ...split.test]).size).toBe(600);
    const keyOf = (i: number) => stratumOf(cohort.records[i], ["sex", "race"], [PLEURAL_EFFUSION]);
    const cells = new Map<string, [number, number]>();
    for (const [name, indices] of Object.entries(split)) {
      for (const i of indices) {
        const cell = cells.get(keyOf(i)) ?? [0, 0];
        cell[name === "train" ? 0 : 1]++;
        cells.set(keyOf(i), cell);
      }
    }
    for (const [train, test] of cells.values()) {
      // Stratification is over all attributes and findings; each coarser cell is within rounding.
      expect(Math.abs(test - (train + test) * 0.25)).toBeLessThanOrEqual(3);
    }
    expect(
      stratifiedSplit(cohort.records, { fractions: { train: 0.75, test: 0.25 }, seed: 1 }),
    ).toEqual(split);
    expect(
      stratifiedSplit(cohort.records, { fractions: { train: 0.75, test: 0.25 }, seed: 2 }).test,
    ).not.toEqual(split.test);
    expect(() =>
      stratifiedSplit(cohort.records, { fractions: { a: 0.5, b: 0.6 }, seed: 1 }),
    ).toThrow(/sum to 1.1/);
  });

  test("a rare cell is represented in the test split", () => {
    const records: SampleRecord[] = Array.from({ length: 100 }, (_, i) => ({
      id: String(i),
      attributes: { sex: i < 8 ? "Female" : "Male" },
      labels: { x: 0 },
      prompt: "",
      details: {},
    }));
    const split = stratifiedSplit(records, { fractions: { train: 0.75, test: 0.25 }, seed: 3 });
    expect(split.test.filter((i) => i < 8)).toHaveLength(2);
  });

  test("groupBy keeps a lesion's images in one split", () => {
    const records: SampleRecord[] = Array.from({ length: 40 }, (_, i) => ({
      id: String(i),
      attributes: {},
      labels: { malignant: i % 2 },
      prompt: "",
      details: { lesion_id: `L${Math.floor(i / 2)}` },
    }));
    const split = stratifiedSplit(records, {
      fractions: { train: 0.5, test: 0.5 },
      seed: 3,
      groupBy: "lesion_id",
    });
    for (let lesion = 0; lesion < 20; lesion++) {
      expect(split.train.includes(2 * lesion)).toBe(split.train.includes(2 * lesion + 1));
    }
  });
});

describe("batches", () => {
  test("streams NHWC batches in a seeded order that changes per epoch", async () => {
    const seen: number[] = [];
    let batches = 0;
    for await (const batch of iterateBatches(cohort, { batchSize: 64, seed: 5 }, [
      ...Array(150).keys(),
    ])) {
      expect(batch.shape).toEqual([batch.samples.length, 16, 16, 1]);
      expect(batch.images.length).toBe(batch.samples.length * 256);
      expect(Array.from(batch.images.subarray(0, 256))).toEqual(
        Array.from(batch.samples[0].image.data),
      );
      seen.push(...batch.indices);
      batches++;
    }
    expect(batches).toBe(3);
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(150).keys()]);
    expect(seen).not.toEqual([...Array(150).keys()]);
    const epoch1: number[] = [];
    for await (const b of iterateBatches(
      cohort,
      { batchSize: 64, seed: 5, epoch: 1, dropLast: true },
      [...Array(150).keys()],
    )) {
      epoch1.push(...b.indices);
    }
    expect(epoch1).toHaveLength(128);
    expect(epoch1.slice(0, 10)).not.toEqual(seen.slice(0, 10));
  });
});

describe("summary", () => {
  test("counts by subgroup × label, including intersections and unknowns, as a plain value", () => {
    const biased = createSyntheticCohort({
      cohort: "cxr",
      size: 200,
      seed: 1,
      mix: {
        prevalence: { [PLEURAL_EFFUSION]: 0.5 },
        givenFinding: { [PLEURAL_EFFUSION]: { sex: { Female: 0.2, Male: 0.8 } } },
      },
    });
    const summary = summarizeDataset(biased, ["sex", "sex×race"]);
    const bySex = summary.byAttribute[0];
    expect(bySex.groups.map((g) => [g.group, g.total, g.positives[PLEURAL_EFFUSION]])).toEqual([
      ["Female", 100, 20],
      ["Male", 100, 80],
    ]);
    expect(summary.byAttribute[1].groups).toHaveLength(6);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    const partial = summarizeDataset({
      name: "x",
      attributes: biased.attributes,
      findings: [PLEURAL_EFFUSION],
      records: [
        { id: "a", attributes: {}, labels: { [PLEURAL_EFFUSION]: 1 }, prompt: "", details: {} },
      ],
    });
    expect(partial.byAttribute[0].unknown.total).toBe(1);
    expect(formatSummary(summary)).toMatch(/Female\s+100/);
  });
});
