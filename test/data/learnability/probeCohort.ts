/**
 * Done-when of the datasets issue, at reduced size: a tiny CNN trained briefly on a synthetic
 * cohort reads every sensitive attribute and finding from the pixels on held-out samples.
 * One file per cohort so jest runs them on separate workers. The full figure (bigger sets,
 * ≥ 95 % / ≥ 90 %) is scripts/cohort-accuracy.ts.
 */
import { useBackend } from "../../../src/backend";
import { probeCohortLearnability, type CohortName, type ProbeResult } from "../../../src/data";

const REDUCED = { trainSize: 1200, testSize: 400, epochs: 4, batchSize: 32, seed: 3 };

/** `check` adds the calling file's own assertions on the probe result (e.g. which tasks ran). */
export function describeLearnability(
  cohort: CohortName,
  check: (result: ProbeResult) => void,
): void {
  beforeAll(async () => {
    await useBackend("wasm");
  });

  test(
    `${cohort}: attributes ≥ 90 % and findings ≥ 85 % held-out after a short training`,
    async () => {
      const result = await probeCohortLearnability({ cohort, ...REDUCED });
      const summary = result.tasks.map((t) => `${t.name} ${(t.accuracy * 100).toFixed(1)}%`);
      for (const task of result.tasks) {
        const floor = task.kind === "attribute" ? 0.9 : 0.85;
        if (task.accuracy < floor) throw new Error(`${cohort}: ${summary.join(", ")}`);
        expect(task.accuracy).toBeGreaterThan(task.majorityBaseline);
      }
      check(result);
    },
    // ~20 s of CPU per cohort; generous for a loaded CI machine.
    150_000,
  );
}
