/**
 * `fairdiff dataset preview|summary`: look at an embedded synthetic cohort — a labelled PNG grid
 * of examples by subgroup, or counts by subgroup × label.
 */
import type { Command } from "commander";
import {
  cohortDefinition,
  createSyntheticCohort,
  formatSummary,
  renderPreviewGrid,
  summarizeDataset,
  type CohortName,
} from "../../data";
import { encodePng } from "../../io";
import { writeFileAtomic } from "../../io/atomicWrite";
import { checkOutputFile } from "../../io/outputPath";
import { integerOption, SEED_RANGE } from "../optionValues";

/** Cohort records (attributes, labels, prompt; images render lazily) held for a summary. */
const SUMMARY_SIZE_RANGE = {
  min: 1,
  max: 1_000_000,
  maxReason: "every record is held in memory",
};

export function registerDatasetCommand(program: Command): void {
  const dataset = program.command("dataset").description("embedded synthetic medical cohorts");

  dataset
    .command("preview")
    .description("write a labelled grid of examples by subgroup as a PNG")
    .requiredOption("-c, --cohort <name>", "cxr | derm | fundus")
    .requiredOption("-o, --out <file>", "PNG file to write")
    .option("-a, --attribute <name>", "attribute (or intersection, e.g. sex×race) for the rows")
    .option("-f, --finding <name>", "finding that splits the columns")
    .option("--image-size <px>", "image size", "32")
    .option("--per-cell <n>", "examples per cell", "4")
    .option("--scale <n>", "pixel magnification", "3")
    .option("--seed <n>", "seed", "1")
    .action(
      async (opts: {
        cohort: string;
        out: string;
        attribute?: string;
        finding?: string;
        imageSize: string;
        perCell: string;
        scale: string;
        seed: string;
      }) => {
        const definition = cohortDefinition(opts.cohort);
        const perCell = integerOption("--per-cell", opts.perCell, { min: 1, max: 64 });
        const imageSize = integerOption("--image-size", opts.imageSize, { min: 8, max: 256 });
        const scale = integerOption("--scale", opts.scale, { min: 1, max: 16 });
        const seed = integerOption("--seed", opts.seed, SEED_RANGE);
        checkOutputFile("--out", opts.out);
        const cohort = createSyntheticCohort({
          cohort: definition.name as CohortName,
          // Enough samples that every (group, finding) cell usually fills up.
          size: Math.max(200, perCell * 60),
          seed,
          imageSize,
        });
        const grid = await renderPreviewGrid(cohort, {
          attribute: opts.attribute,
          finding: opts.finding,
          perCell,
          scale,
        });
        writeFileAtomic(opts.out, encodePng(grid));
        console.log(`wrote ${opts.out} (${grid.width}×${grid.height}) — ${definition.title}`);
      },
    );

  dataset
    .command("summary")
    .description("counts by subgroup × label of a synthetic cohort")
    .requiredOption("-c, --cohort <name>", "cxr | derm | fundus")
    .option("-n, --size <n>", "number of samples", "1000")
    .option("-a, --attribute <names...>", "attributes or intersections to count by")
    .option("--seed <n>", "seed", "1")
    .option("--json", "print the summary as JSON")
    .action(
      (opts: {
        cohort: string;
        size: string;
        attribute?: string[];
        seed: string;
        json?: boolean;
      }) => {
        const definition = cohortDefinition(opts.cohort);
        const cohort = createSyntheticCohort({
          cohort: definition.name as CohortName,
          size: integerOption("--size", opts.size, SUMMARY_SIZE_RANGE),
          seed: integerOption("--seed", opts.seed, SEED_RANGE),
        });
        const summary = summarizeDataset(cohort, opts.attribute);
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
      },
    );
}
