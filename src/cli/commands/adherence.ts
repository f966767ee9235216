/**
 * `fairdiff adherence`: does the model draw what the prompt asks? For every sex × race × finding
 * prompt of the chest cohort, n seeded images are classified; the pooled share showing the
 * requested sex and finding status is printed with Wilson intervals.
 */
import type { Command } from "commander";
import { auditRepresentation } from "../../audit/representationAudit";
import { summarizeAdherence } from "../../audit/adherenceSummary";
import { useBackend } from "../../backend";
import { SubgroupClassifier } from "../../classifiers/subgroupClassifier";
import { chexpertPrompt } from "../../data/prompts";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { ProgressBar } from "../progressBar";
import { DEFAULT_MODEL } from "./sample";
import * as path from "node:path";

export const DEFAULT_CLASSIFIER = path.join(path.dirname(DEFAULT_MODEL), "cxr-classifier.fdckpt");

export function chestAdherencePrompts(): string[] {
  const prompts: string[] = [];
  for (const sex of ["Female", "Male"])
    for (const race of ["Asian", "Black", "White"])
      for (const positive of [false, true]) prompts.push(chexpertPrompt({ sex, race, positive }));
  return prompts;
}

export function registerAdherenceCommand(program: Command): void {
  program
    .command("adherence")
    .description("measure how often generated chest images show the prompted sex and finding")
    .option("-m, --model <file>", "model checkpoint", DEFAULT_MODEL)
    .option("-c, --classifier <file>", "subgroup classifier checkpoint", DEFAULT_CLASSIFIER)
    .option("-n, --n <count>", "images per prompt", "16")
    .option("--steps <n>", "DDIM steps", "25")
    .option("--guidance <scale>", "classifier-free guidance scale", "3")
    .option("--seed <n>", "seed", "0")
    .option("--json", "print the full result as JSON")
    .action(async (opts: Record<string, string | boolean>) => {
      await useBackend("auto");
      const model = LatentDiffusionModel.load(String(opts.model));
      const classifier = SubgroupClassifier.load(String(opts.classifier));
      const prompts = chestAdherencePrompts();
      const n = Number(opts.n);
      const bar = new ProgressBar("images", n * prompts.length);
      const results = await auditRepresentation(model, classifier, {
        prompts,
        imagesPerPrompt: n,
        seed: Number(opts.seed),
        attributes: ["sex", "race"],
        generation: { steps: Number(opts.steps), guidanceScale: Number(opts.guidance) },
        resamples: 200,
        onProgress: (done, total) => bar.update(done === total ? total : done),
      });
      const summary = summarizeAdherence(results);
      if (opts.json) console.log(JSON.stringify({ summary, results }, null, 2));
      for (const [name, interval] of [
        ...Object.entries(summary.attributes),
        ...Object.entries(summary.findings),
      ]) {
        console.log(
          `${name.padEnd(18)} ${(100 * interval.estimate).toFixed(1)} % [${(100 * interval.lower).toFixed(1)}, ${(100 * interval.upper).toFixed(1)}] of ${interval.n} images`,
        );
      }
      model.dispose();
      classifier.dispose();
    });
}
