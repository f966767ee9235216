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
import { cohortDefinition, createSyntheticCohort } from "../../data/cohorts/syntheticCohort";
import { checkOutputFile } from "../../io/outputPath";
import { imageCountLimit } from "../imageBudget";
import { integerOption, SEED_RANGE } from "../optionValues";
import type { CohortName } from "../../data/cohorts/cohortDefinition";
import { ProgressBar } from "../progressBar";

/**
 * Fewest cohort images: the 70/15/15 split must leave every split (calibration and test too)
 * a few images, or accuracy is 0/0.
 */
const MIN_COHORT_IMAGES = 40;

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
      const cohortName = cohortDefinition(opts.cohort).name as CohortName;
      const imageSize = integerOption("--image-size", opts.imageSize, { min: 8, max: 256 });
      const size = integerOption("--size", opts.size, {
        min: MIN_COHORT_IMAGES,
        max: imageCountLimit(imageSize * imageSize * 3 * 4 * 2),
        maxReason: `${imageSize}×${imageSize} cohort images are held in memory`,
      });
      const epochs = integerOption("--epochs", opts.epochs, { min: 1, max: 10_000 });
      const seed = integerOption("--seed", opts.seed, SEED_RANGE);
      checkOutputFile("--out", opts.out);
      await useBackend(opts.backend as BackendRequest | undefined);
      const cohort = createSyntheticCohort({ cohort: cohortName, size, seed, imageSize });
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
      // A class with no held-out image has no accuracy: say so instead of "NaN %".
      const percent = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "n/a");
      for (const head of model.evaluation) {
        console.log(
          `${head.task.padEnd(18)} accuracy ${percent(head.accuracy)} on ${head.n} held-out images, T = ${head.temperature.toFixed(2)}; per class ${head.classes
            .map((c, i) => `${c} ${percent(head.perClassAccuracy[i])}`)
            .join(", ")}`,
        );
      }
      await model.save(opts.out);
      console.error(`wrote ${opts.out}`);
      model.dispose();
    });
}
