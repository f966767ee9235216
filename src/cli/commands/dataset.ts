/**
 * `fairdiff dataset preview|summary`: look at an embedded synthetic cohort — a labelled PNG grid
 * of examples by subgroup, or counts by subgroup × label.
 */
import { mkdirSync, writeFileSync } from "fs";
import { dirname } from "path";
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

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

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
        const perCell = positiveInteger("per-cell", opts.perCell);
        const cohort = createSyntheticCohort({
          cohort: definition.name as CohortName,
          // Enough samples that every (group, finding) cell usually fills up.
          size: Math.max(200, perCell * 60),
          seed: Number(opts.seed),
          imageSize: positiveInteger("image-size", opts.imageSize),
        });
        const grid = await renderPreviewGrid(cohort, {
          attribute: opts.attribute,
          finding: opts.finding,
          perCell,
          scale: positiveInteger("scale", opts.scale),
        });
        mkdirSync(dirname(opts.out), { recursive: true });
        writeFileSync(opts.out, encodePng(grid));
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
          size: positiveInteger("size", opts.size),
          seed: Number(opts.seed),
        });
        const summary = summarizeDataset(cohort, opts.attribute);
        console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
      },
    );
}
