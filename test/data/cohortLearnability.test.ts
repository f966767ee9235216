/**
 * Done-when of the datasets issue, at reduced size: a tiny CNN trained briefly on each synthetic
 * cohort reads every sensitive attribute and finding from the pixels on held-out samples.
 * The full figure (bigger sets, ≥ 95 % / ≥ 90 %) is scripts/cohort-accuracy.ts.
 */
import { useBackend } from "../../src/backend";
import { probeCohortLearnability } from "../../src/data";

const REDUCED = { trainSize: 1200, testSize: 400, epochs: 4, batchSize: 32, seed: 3 };

beforeAll(async () => {
  await useBackend("wasm");
});

describe.each(["cxr", "derm", "fundus"] as const)("cohort %s is learnable", (cohort) => {
  test("attributes ≥ 90 % and findings ≥ 85 % held-out after a short training", async () => {
    const result = await probeCohortLearnability({ cohort, ...REDUCED });
    const summary = result.tasks.map((t) => `${t.name} ${(t.accuracy * 100).toFixed(1)}%`);
    for (const task of result.tasks) {
      const floor = task.kind === "attribute" ? 0.9 : 0.85;
      if (task.accuracy < floor) throw new Error(`${cohort}: ${summary.join(", ")}`);
      expect(task.accuracy).toBeGreaterThan(task.majorityBaseline);
    }
  }, 60_000);
});
