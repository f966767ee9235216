/**
 * The full learnability figure for the synthetic cohorts: a tiny CNN trained for a few minutes
 * per cohort, held-out accuracy per sensitive attribute and finding, plus generation throughput.
 * Done-when: every attribute ≥ 95 %, every finding ≥ 90 %.
 *
 * Run (no ts-node needed):
 *   npx tsc -p tsconfig.json && npx tsc --outDir dist --rootDir . --module commonjs \
 *     --target ES2022 --esModuleInterop --skipLibCheck --types node scripts/cohort-accuracy.ts \
 *     && node dist/scripts/cohort-accuracy.js [--train 6000] [--test 2000] [--epochs 10] [--json out.json]
 */
import { writeFileSync } from "fs";
import { useBackend } from "../src/backend";
import { createSyntheticCohort, probeCohortLearnability, type CohortName } from "../src/data";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function measureThroughput(cohort: CohortName, imageSize: number, count: number): number {
  const data = createSyntheticCohort({ cohort, size: count, seed: 99, imageSize });
  data.sampleAt(0); // warm up the JIT
  const start = performance.now();
  for (let i = 0; i < count; i++) data.sampleAt(i);
  return count / ((performance.now() - start) / 1000);
}

async function main() {
  const backend = await useBackend("wasm");
  const trainSize = option("train", 6000);
  const testSize = option("test", 2000);
  const epochs = option("epochs", 10);
  const jsonAt = process.argv.indexOf("--json");
  const report: Record<string, unknown>[] = [];
  let pass = true;
  console.log(`backend ${backend.name}; train ${trainSize}, test ${testSize}, ${epochs} epochs`);
  for (const cohort of ["cxr", "derm", "fundus"] as const) {
    const throughput = {
      32: measureThroughput(cohort, 32, 5000),
      64: measureThroughput(cohort, 64, 1000),
    };
    const result = await probeCohortLearnability({
      cohort,
      trainSize,
      testSize,
      epochs,
      seed: 1,
      onEpoch: (epoch, loss) =>
        console.log(`  ${cohort} epoch ${epoch + 1} loss ${loss.toFixed(4)}`),
    });
    console.log(
      `${cohort}: generation ${throughput[32].toFixed(0)} img/s at 32×32, ${throughput[64].toFixed(0)} img/s at 64×64; training ${result.trainSeconds.toFixed(0)} s`,
    );
    for (const task of result.tasks) {
      const floor = task.kind === "attribute" ? 0.95 : 0.9;
      const ok = task.accuracy >= floor;
      pass &&= ok;
      console.log(
        `  ${task.kind.padEnd(9)} ${task.name.padEnd(17)} ${(task.accuracy * 100).toFixed(1)}%  (majority ${(task.majorityBaseline * 100).toFixed(1)}%, need ${floor * 100}%) ${ok ? "ok" : "BELOW"}`,
      );
    }
    report.push({ ...result, throughput });
  }
  if (jsonAt >= 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify(report, null, 2));
  console.log(pass ? "all cohorts meet the done-when" : "some task is below its threshold");
  process.exitCode = pass ? 0 : 1;
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
