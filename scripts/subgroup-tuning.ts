/**
 * Done-when measurement for method 2 (subgroup-distribution-aligned tuning): tune the default
 * model so the neutral effusion prompt's images match a target dataset's subgroup proportions,
 * then audit on fresh seeds. Pass: every audited group proportion within ±0.07 of the target.
 *
 * Target dataset: an unbiased synthetic chest cohort (default mix, 2,000 records, seed 5); the
 * target is its proportions among the Pleural Effusion cases (the prompt names the finding).
 *
 * Run:
 *   npx tsc --outDir dist --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --skipLibCheck --types node scripts/subgroup-tuning.ts && \
 *   node dist/scripts/subgroup-tuning.js [--steps 150] [--batch 16] [--lr 1e-3] [--lambda 1] [--confidence 0] [--ema 0.95] [--seed 7] \
 *     [--attributes sex] [--n 200] [--eval-every 50] [--model models/cxr-mini.fdckpt] [--json out.json] [--save tuned.fdckpt]
 */
import { writeFileSync } from "fs";
import { useBackend } from "../src/backend";
import { SubgroupClassifier } from "../src/classifiers/subgroupClassifier";
import { createSyntheticCohort } from "../src/data/cohorts/syntheticCohort";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import type { TargetDistributions } from "../src/methods/methodEvents";
import { EvaluationClock, periodicEvaluation } from "../src/methods/periodicEvaluation";
import { subgroupAlignedTuning } from "../src/methods/subgroupAlignedTuning";
import { targetFromDataset } from "../src/methods/targetFromDataset";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const NEUTRAL = "Chest Radiography image of a patient diagnosed with Pleural Effusion";

async function main() {
  const backend = await useBackend((option("backend", "wasm") as "wasm") ?? "wasm");
  const steps = Number(option("steps", "150"));
  const batchSize = Number(option("batch", "16"));
  const learningRate = Number(option("lr", "1e-3"));
  const consistencyWeight = Number(option("lambda", "1"));
  const confidenceWeight = Number(option("confidence", "0"));
  const n = Number(option("n", "200"));
  const ema = option("ema", "");
  const emaDecay = ema === "" ? undefined : Number(ema);
  const evalEvery = Number(option("eval-every", "50"));
  const attributes = option("attributes", "sex").split(",");
  const model = LatentDiffusionModel.load(option("model", "models/cxr-mini.fdckpt"));
  const classifier = SubgroupClassifier.load(option("classifier", "models/cxr-classifier.fdckpt"));

  const targetDataset = createSyntheticCohort({ cohort: "cxr", size: 2000, seed: 5 });
  const target: TargetDistributions = Object.fromEntries(
    attributes.map((a) => [
      a,
      targetFromDataset(targetDataset, a, { where: (r) => r.labels["Pleural Effusion"] === 1 }),
    ]),
  );
  console.log(`backend ${backend.name}; target (effusion cases of the unbiased cohort):`, target);

  const audit = async (seed: number, label: string) => {
    const e = await periodicEvaluation(
      model,
      classifier,
      { prompts: [NEUTRAL], imagesPerPrompt: n, seed, attributes },
      { method: "subgroup", step: 0, target, clock: new EvaluationClock() },
    );
    for (const a of e.attributes) {
      const parts = a.groups.map(
        (g, i) =>
          `${g} ${a.proportions[i].toFixed(3)} [${a.intervals[i].lower.toFixed(3)}, ${a.intervals[i].upper.toFixed(3)}] (target ${a.target[i].toFixed(3)})`,
      );
      console.log(
        `${label} ${a.attribute}: ${parts.join("; ")}; bias ${a.bias.toFixed(3)}; n ${a.n}`,
      );
    }
    return e;
  };
  const before = await audit(1001, "before");
  const curve: Record<string, unknown>[] = [];
  const started = performance.now();
  for await (const e of subgroupAlignedTuning(model, classifier, {
    steps,
    seed: Number(option("seed", "7")),
    prompts: [NEUTRAL],
    target: () => target,
    batchSize,
    learningRate,
    consistencyWeight,
    confidenceWeight,
    emaDecay,
    evaluation: { every: evalEvery, prompts: [NEUTRAL], imagesPerPrompt: 64, seed: 77, attributes },
  })) {
    if (e.type === "step" && (e.step % 10 === 0 || e.step === 1)) {
      console.log(
        `step ${e.step}: loss ${e.losses.total.toFixed(4)} (dist ${e.losses.distribution.toFixed(4)}, kd ${e.losses.consistency.toFixed(5)}, entropy ${e.losses.confidence.toFixed(4)}), batch ${JSON.stringify(e.detail.batchProportions)} t=${String(e.detail.timestep)} ${e.imagesPerSecond.toFixed(1)} img/s`,
      );
    } else if (e.type === "evaluation") {
      const summary = e.attributes.map(
        (a) =>
          `${a.attribute} ${a.proportions.map((p) => p.toFixed(3)).join("/")} bias ${a.bias.toFixed(3)}`,
      );
      console.log(
        `eval @${e.step}: ${summary.join("; ")} (${(e.elapsedMs / 1000).toFixed(1)} s, share ${(e.evaluationShare * 100).toFixed(1)} %)`,
      );
      curve.push({
        step: e.step,
        attributes: e.attributes.map((a) => ({
          attribute: a.attribute,
          proportions: a.proportions,
          bias: a.bias,
        })),
      });
    }
  }
  const minutes = (performance.now() - started) / 60000;
  const after = await audit(2002, "after");
  let worst = 0;
  for (const a of after.attributes) {
    a.proportions.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - a.target[i]))));
  }
  const pass = worst <= 0.07;
  console.log(
    `tuning ${minutes.toFixed(1)} min; worst |proportion − target| after: ${worst.toFixed(3)} → ${pass ? "PASS" : "FAIL"} (±0.07)`,
  );
  const jsonAt = process.argv.indexOf("--json");
  if (jsonAt >= 0) {
    writeFileSync(
      process.argv[jsonAt + 1],
      JSON.stringify(
        {
          target,
          before: before.attributes,
          after: after.attributes,
          curve,
          steps,
          batchSize,
          learningRate,
          consistencyWeight,
          confidenceWeight,
          emaDecay,
          minutes,
          worst,
          pass,
        },
        null,
        2,
      ),
    );
  }
  const savePath = option("save", "");
  if (savePath) await model.save(savePath);
  process.exitCode = pass ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
