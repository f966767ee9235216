/**
 * `fairdiff classifier train`: a subgroup classifier for an embedded cohort (one head per
 * attribute and finding), calibrated, with its held-out confusion matrices printed and saved.
 */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { useBackend } from "../../backend";
import { tasksFor } from "../../classifiers/classificationTask";
import { trainSubgroupClassifier } from "../../classifiers/trainSubgroupClassifier";
import { createSyntheticCohort } from "../../data/cohorts/syntheticCohort";
import type { CohortName } from "../../data/cohorts/cohortDefinition";
import { ProgressBar } from "../progressBar";

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function registerClassifierCommand(program: Command): void {
  const classifier = program
    .command("classifier")
    .description("subgroup classifiers used by audits");
  classifier
    .command("train")
    .description("train a classifier on an embedded cohort and save it with its confusion matrices")
    .option("-c, --cohort <name>", "cxr | derm | fundus", "cxr")
    .requiredOption("-o, --out <file>", "classifier checkpoint to write")
    .option("--size <n>", "cohort images (70 % train, 15 % calibration, 15 % test)", "4000")
    .option("--image-size <px>", "image size", "32")
    .option("--epochs <n>", "training epochs", "8")
    .option("--seed <n>", "seed", "5")
    .addOption(backendFlag())
    .action(async (opts: Record<string, string>) => {
      await useBackend(opts.backend as BackendRequest | undefined);
      const size = positive("size", opts.size);
      const epochs = positive("epochs", opts.epochs);
      const seed = Number(opts.seed);
      const cohort = createSyntheticCohort({
        cohort: opts.cohort as CohortName,
        size,
        seed,
        imageSize: positive("image-size", opts.imageSize),
      });
      const samples = cohort.records.map((_, i) => cohort.sampleAt(i));
      const trainEnd = Math.floor(size * 0.7);
      const calibrationEnd = Math.floor(size * 0.85);
      const bar = new ProgressBar("epochs", epochs);
      const model = await trainSubgroupClassifier(
        {
          train: samples.slice(0, trainEnd),
          calibration: samples.slice(trainEnd, calibrationEnd),
          test: samples.slice(calibrationEnd),
        },
        {
          tasks: tasksFor(cohort.attributes, cohort.findings),
          seed,
          epochs,
          provenance: { cohort: opts.cohort, cohortSize: size, cohortSeed: seed },
          onEpoch: (epoch, loss) => bar.update(epoch, `loss ${loss.toFixed(4)}`),
        },
      );
      for (const head of model.evaluation) {
        console.log(
          `${head.task.padEnd(18)} accuracy ${(100 * head.accuracy).toFixed(1)} % on ${head.n} held-out images, T = ${head.temperature.toFixed(2)}; per class ${head.classes
            .map((c, i) => `${c} ${(100 * head.perClassAccuracy[i]).toFixed(1)} %`)
            .join(", ")}`,
        );
      }
      await model.save(opts.out);
      console.error(`wrote ${opts.out}`);
      model.dispose();
    });
}
