/**
 * `fairdiff evaluate`: does the chest model draw what the prompt asks, and does its autoencoder
 * serve every group alike? For every sex × race × findings prompt, n seeded images are classified
 * and the pooled share showing the requested sex, race and finding status is printed with Wilson
 * intervals; then reconstruction PSNR per subgroup on unbiased cohort images.
 */
import type { BackendRequest } from "../../backend";
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { auditRepresentation } from "../../audit/representationAudit";
import { summarizeAdherence } from "../../audit/adherenceSummary";
import { useBackend } from "../../backend";
import { SubgroupClassifier } from "../../classifiers/subgroupClassifier";
import { chestFindingsPrompt } from "../../data/prompts";
import { CARDIOMEGALY, PLEURAL_EFFUSION } from "../../data/cohorts/chestRadiograph";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { checkImageCount } from "../imageBudget";
import { integerOption, numberOption, SAMPLER_STEP_RANGE, SEED_RANGE } from "../optionValues";
import { ProgressBar } from "../progressBar";
import { createSyntheticCohort } from "../../data/cohorts/syntheticCohort";
import { reconstructionPsnr } from "../../pipeline/reconstructionQuality";
import { shippedModelPath } from "../../features/packageRoot";
import { DEFAULT_MODEL } from "./sample";

export const DEFAULT_CLASSIFIER = shippedModelPath("cxr-classifier.fdckpt");

/** Every sex × race × finding combination the cohort's captions name (24 prompts). */
export function chestAdherencePrompts(): string[] {
  const findingSets = [[], [PLEURAL_EFFUSION], [CARDIOMEGALY], [PLEURAL_EFFUSION, CARDIOMEGALY]];
  const prompts: string[] = [];
  for (const sex of ["Female", "Male"])
    for (const race of ["Asian", "Black", "White"])
      for (const findings of findingSets)
        prompts.push(chestFindingsPrompt({ sex, race, findings }));
  return prompts;
}

export function registerEvaluateCommand(program: Command): void {
  program
    .command("evaluate")
    .description("prompt adherence (sex, race, finding) and reconstruction PSNR per subgroup")
    .option("-m, --model <file>", "model checkpoint", DEFAULT_MODEL)
    .option("-c, --classifier <file>", "subgroup classifier checkpoint", DEFAULT_CLASSIFIER)
    .option("-n, --n <count>", "images per prompt", "16")
    .option("--steps <n>", "DDIM steps", "25")
    .option("--guidance <scale>", "classifier-free guidance scale", "3")
    .option("--seed <n>", "seed", "0")
    .option("--json", "print the full result as JSON")
    .addOption(backendFlag())
    .action(async (opts: Record<string, string | boolean>) => {
      const n = integerOption("--n", String(opts.n), { min: 2 });
      const steps = integerOption("--steps", String(opts.steps), SAMPLER_STEP_RANGE);
      const guidanceScale = numberOption("--guidance", String(opts.guidance), { min: 0 });
      const seed = integerOption("--seed", String(opts.seed), SEED_RANGE);
      await useBackend(opts.backend as BackendRequest | undefined);
      const model = LatentDiffusionModel.load(String(opts.model));
      const { imageSize, imageChannels } = model.config;
      const prompts = chestAdherencePrompts();
      checkImageCount(
        "--n",
        n,
        imageSize * imageSize * imageChannels * prompts.length,
        `${imageSize}×${imageSize}×${imageChannels} float32 pixels and the classifier's copy`,
      );
      const classifier = SubgroupClassifier.load(String(opts.classifier));
      const bar = new ProgressBar("images", n * prompts.length);
      const results = await auditRepresentation(model, classifier, {
        prompts,
        imagesPerPrompt: n,
        seed,
        attributes: ["sex", "race"],
        generation: { steps, guidanceScale },
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
      const cohort = createSyntheticCohort({
        cohort: "cxr",
        size: 256,
        seed: 99,
        imageSize: model.config.imageSize,
      });
      const quality = await reconstructionPsnr(
        model,
        cohort.records.map((_, i) => cohort.sampleAt(i)),
        ["sex", "race", "ageBand"],
      );
      console.log(
        `autoencoder PSNR ${quality.overall.toFixed(2)} dB over ${quality.n} unbiased cohort images`,
      );
      for (const [attribute, groups] of Object.entries(quality.byAttribute)) {
        const parts = Object.entries(groups).map(
          ([g, v]) => `${g} ${v.mean.toFixed(2)} (${v.count})`,
        );
        console.log(`  ${attribute.padEnd(8)} ${parts.join(", ")}`);
      }
      model.dispose();
      classifier.dispose();
    });
}
