/**
 * `fairdiff audit`: audit a text-to-image model for subgroup representation (and, with
 * --quality, image quality per group: FID and KID, also per --intersections group) and write the
 * report as HTML (and JSON / Markdown).
 * Defaults: the shipped cxr-mini model and cohort classifier, neutral prompts that name no sex
 * or race, so the images show what the model does when the prompt leaves the choice to it.
 *
 * Every input is checked before any image is generated: a bad --target, --intersections or
 * prompts file fails in a second with a message naming the bad value.
 */
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { namedGroup } from "../../audit/promptAdherence";
import type { AuditReport } from "../../audit/auditReport";
import { heldOutRealSamples, presetTrainingImages } from "../../audit/qualityImageSet";
import { runAudit, type AuditProgress, type RunAuditQualityOptions } from "../../audit/runAudit";
import { useBackend } from "../../backend";
import type { BackendRequest } from "../../backend/backendInfo";
import { SubgroupClassifier } from "../../classifiers/subgroupClassifier";
import { chexpertPrompt } from "../../data/prompts";
import type { FeatureExtractor } from "../../features/featureExtractor";
import { graphModelExtractor } from "../../features/graphModelExtractor";
import { shippedModelPath } from "../../features/packageRoot";
import { projectEncoderExtractor } from "../../features/projectEncoderExtractor";
import { radiomicExtractor } from "../../features/radiomicExtractor";
import { writeFileAtomic } from "../../io/atomicWrite";
import { checkOutputFile } from "../../io/outputPath";
import { LatentDiffusionModel } from "../../pipeline/latentDiffusionModel";
import { trainingPreset } from "../../pipeline/presets";
import type { SchedulerName } from "../../schedulers/createScheduler";
import { checkImageCount } from "../imageBudget";
import { interruptOnCtrlC } from "../interrupt";
import { integerOption, numberOption, SAMPLER_STEP_RANGE, SEED_RANGE } from "../optionValues";
import { ProgressBar } from "../progressBar";
import { checkTargets, groupsWithIntersections, parseTargetSpecs } from "../targetOption";

/** Neutral prompts: the finding and its absence, with no sex or race named. */
export const DEFAULT_AUDIT_PROMPTS: readonly string[] = [
  chexpertPrompt({ positive: true }),
  chexpertPrompt({ positive: false }),
];

/** Seed of the held-out real cohort for --quality (the training cohort's seed is refused). */
export const DEFAULT_REAL_SEED = 99;

export interface AuditCommandOptions {
  model?: string;
  classifier?: string;
  /** A prompts file (one per line, # comments) or a ";"-separated list. */
  prompts?: string;
  n?: string;
  seed?: string;
  steps?: string;
  guidance?: string;
  scheduler?: string;
  out?: string;
  json?: string;
  markdown?: string;
  /** "sex=Female:0.5,Male:0.5"; several with ";" or by repeating the option. */
  target?: string[];
  /** "sex,race"; several with ";". */
  intersections?: string;
  attributes?: string;
  resamples?: string;
  quality?: boolean;
  extractor?: string;
  /** Subsample every group to the smallest group's size before its FID (like with like). */
  equalGroups?: boolean;
  /** KID beside every FID with --quality (default true; `--no-kid` sets false). */
  kid?: boolean;
  /**
   * With --quality, search the preset's training images for near-copies among the generated ones
   * (default true; `--no-memorisation` sets false).
   */
  memorisation?: boolean;
  real?: string;
  realSeed?: string;
  title?: string;
  backend?: string;
  /** Stops the audit (the command wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Progress bars go here (default stderr); tests pass a sink. */
  progress?: NodeJS.WriteStream;
  /** Summary and "wrote" lines (default: console). */
  log?: (line: string) => void;
}

/** A prompt quoted in a note: the first 80 characters are enough to recognise it. */
function shortened(prompt: string): string {
  return prompt.length > 80 ? `${prompt.slice(0, 80)}…` : prompt;
}

function looksLikePath(spec: string): boolean {
  return !/\s/.test(spec) && (/[\\/]/.test(spec) || /\.(txt|csv|prompts?)$/i.test(spec));
}

/** Prompts from a file (one per line; blank lines and # comments skipped) or a ";" list. */
export function parsePrompts(spec: string): string[] {
  let prompts: string[];
  if (fs.existsSync(spec) && fs.statSync(spec).isFile()) {
    let text: string;
    try {
      text = fs.readFileSync(spec, "utf8");
    } catch (error) {
      throw new Error(`cannot read prompts file "${spec}": ${(error as Error).message}`);
    }
    prompts = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    if (prompts.length === 0) throw new Error(`prompts file "${spec}" has no prompts`);
    return prompts;
  }
  if (looksLikePath(spec)) throw new Error(`cannot read prompts file "${spec}": no such file`);
  prompts = spec
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (prompts.length === 0) throw new Error(`--prompts "${spec}" names no prompt`);
  return prompts;
}

/** "sex,race;sex,ageBand" → [["sex","race"],["sex","ageBand"]], each name an attribute head. */
export function parseIntersections(spec: string, attributes: readonly string[]): string[][] {
  return spec
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const names = part.split(",").map((n) => n.trim());
      if (names.length < 2 || names.some((n) => n === ""))
        throw new Error(
          `--intersections "${part}" must name two or more attributes, e.g. sex,race`,
        );
      for (const name of names) {
        if (!attributes.includes(name))
          throw new Error(
            `--intersections names unknown attribute "${name}" (classifier attributes: ${attributes.join(", ")})`,
          );
      }
      if (new Set(names).size !== names.length)
        throw new Error(`--intersections "${part}" names an attribute twice`);
      return names;
    });
}

function load<T>(what: string, file: string, loader: (file: string) => T): T {
  try {
    return loader(file);
  } catch (error) {
    throw new Error(`--${what} "${file}": ${(error as Error).message}`);
  }
}

async function featureExtractor(
  spec: string,
  classifierFile: string,
  channels: number,
): Promise<FeatureExtractor> {
  if (spec === "project") {
    // Its own copy: the extractor disposes the classifier it wraps.
    return projectEncoderExtractor(load("classifier", classifierFile, SubgroupClassifier.load));
  }
  if (spec === "radiomic") return radiomicExtractor({ channels });
  if (!fs.existsSync(path.join(spec, "model.json")))
    throw new Error(
      `--extractor "${spec}" is not "project", "radiomic" or a folder holding a tfjs graph model (model.json)`,
    );
  return graphModelExtractor(spec);
}

/** Attributes the real captions name: only those can be split on the generated side. */
function namedInCaptions(
  attributes: readonly string[],
  classifier: SubgroupClassifier,
  captions: readonly string[],
): string[] {
  return attributes.filter((name) => {
    const groups = classifier.task(name).classes;
    return captions.some((caption) => namedGroup(caption, groups) !== undefined);
  });
}

export async function auditCommand(
  opts: AuditCommandOptions,
): Promise<{ report: AuditReport; files: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const progress = opts.progress ?? process.stderr;
  const modelFile = opts.model ?? shippedModelPath("cxr-mini.fdckpt");
  const classifierFile = opts.classifier ?? shippedModelPath("cxr-classifier.fdckpt");
  const prompts =
    opts.prompts === undefined ? [...DEFAULT_AUDIT_PROMPTS] : parsePrompts(opts.prompts);
  const n = integerOption("--n", opts.n ?? "64", { min: 2 });
  const seed = integerOption("--seed", opts.seed ?? "0", SEED_RANGE);
  const steps = integerOption("--steps", opts.steps ?? "25", SAMPLER_STEP_RANGE);
  const guidanceScale = numberOption("--guidance", opts.guidance ?? "3", { min: 0 });
  const resamples = integerOption("--resamples", opts.resamples ?? "2000", {
    min: 10,
    max: 1_000_000,
  });
  const scheduler = (opts.scheduler ?? "ddim") as SchedulerName;
  if (!["ddim", "ddpm", "dpm-solver++"].includes(scheduler))
    throw new Error(`--scheduler must be ddim, ddpm or dpm-solver++, got "${scheduler}"`);
  const realCount = integerOption("--real", opts.real ?? "256", { min: 2 });
  const realSeed = integerOption(
    "--real-seed",
    opts.realSeed ?? String(DEFAULT_REAL_SEED),
    SEED_RANGE,
  );
  const targetSpecs = parseTargetSpecs(opts.target ?? []);
  const out = opts.out ?? "report.html";
  for (const [flag, file] of [
    ["--out", out],
    ["--json", opts.json],
    ["--markdown", opts.markdown],
  ] as const) {
    if (file !== undefined) checkOutputFile(flag, file);
  }

  await useBackend(opts.backend as BackendRequest | undefined);
  const classifier = load("classifier", classifierFile, SubgroupClassifier.load);
  let model: LatentDiffusionModel | undefined;
  let extractor: FeatureExtractor | undefined;
  try {
    const heads = classifier.tasks.filter((t) => t.kind === "attribute").map((t) => t.name);
    const attributes =
      opts.attributes === undefined
        ? heads
        : opts.attributes.split(",").map((name) => {
            const trimmed = name.trim();
            if (!heads.includes(trimmed))
              throw new Error(
                `--attributes names unknown attribute "${trimmed}" (classifier attributes: ${heads.join(", ")})`,
              );
            return trimmed;
          });
    const intersections =
      opts.intersections === undefined ? [] : parseIntersections(opts.intersections, heads);
    const groupsOf = groupsWithIntersections(
      attributes,
      intersections,
      (name) => classifier.task(name).classes,
    );
    const targets = checkTargets(targetSpecs, groupsOf);

    model = load("model", modelFile, LatentDiffusionModel.load);
    const { imageSize, imageChannels } = model.config;
    const perImage = `${imageSize}×${imageSize}×${imageChannels} float32 pixels, their copy for the classifier and its input`;
    const imageBytes = imageSize * imageSize * imageChannels * 4 * 3;
    checkImageCount("--n", n, imageBytes, perImage);
    if (opts.quality) checkImageCount("--real", realCount, imageBytes, perImage);
    for (const prompt of prompts) {
      for (const note of model.tokenizer.promptNotes(prompt))
        progress.write(`note: ${note} (in "${shortened(prompt)}")\n`);
    }

    let quality: RunAuditQualityOptions | undefined;
    if (opts.quality) {
      const presetName = model.info.preset;
      if (typeof presetName !== "string")
        throw new Error(
          `--quality needs real images: the model records no training preset to draw a held-out cohort from`,
        );
      const preset = trainingPreset(presetName);
      const real = heldOutRealSamples(preset, { size: realCount, seed: realSeed });
      const training = opts.memorisation === false ? undefined : presetTrainingImages(preset);
      quality = {
        real,
        realDescription: `${preset.cohort} cohort (${preset.name} mix), held-out draw of ${realCount} images, seed ${realSeed}`,
        extractor: (extractor = await featureExtractor(
          opts.extractor ?? "project",
          classifierFile,
          model.config.imageChannels,
        )),
        ...(opts.equalGroups ? { equalGroupSizes: true } : {}),
        ...(opts.kid === false ? { kid: false } : {}),
        ...(training
          ? {
              memorisation: {
                training: training.images,
                trainingDescription: training.description,
              },
            }
          : {}),
        attributes: namedInCaptions(
          attributes,
          classifier,
          real.map((s) => s.prompt),
        ),
      };
    } else if (
      opts.extractor !== undefined ||
      opts.equalGroups ||
      opts.kid === false ||
      opts.memorisation === false
    ) {
      const flag =
        opts.extractor !== undefined
          ? "--extractor"
          : opts.equalGroups
            ? "--equal-groups"
            : opts.kid === false
              ? "--no-kid"
              : "--no-memorisation";
      throw new Error(`${flag} only applies with --quality`);
    }

    const bars = new Map<string, ProgressBar>();
    const onProgress = (p: AuditProgress) => {
      const label = p.stage === "representation" ? "images" : `quality ${p.step ?? ""}`.trim();
      let bar = bars.get(label);
      if (!bar) bars.set(label, (bar = new ProgressBar(label, p.total, progress)));
      bar.update(p.done);
    };
    const report = await runAudit(model, classifier, {
      prompts,
      imagesPerPrompt: n,
      seed,
      attributes,
      intersections,
      targets,
      generation: { steps, guidanceScale, scheduler },
      resamples,
      modelFile,
      classifierFile,
      quality,
      title: opts.title,
      signal: opts.signal,
      onProgress,
    });
    const files = [out];
    writeFileAtomic(out, report.toHTML());
    if (opts.json !== undefined) {
      report.save(opts.json);
      files.push(opts.json);
    }
    if (opts.markdown !== undefined) {
      writeFileAtomic(opts.markdown, report.toMarkdown());
      files.push(opts.markdown);
    }
    log(report.toString());
    for (const file of files) log(`wrote ${file}`);
    return { report, files };
  } finally {
    extractor?.dispose();
    model?.dispose();
    classifier.dispose();
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerAuditCommand(program: Command): void {
  program
    .command("audit")
    .description(
      "audit subgroup representation (and image quality per group) and write an HTML report",
    )
    .option("-m, --model <file>", "model checkpoint (default: the shipped cxr-mini)")
    .option("-c, --classifier <file>", "subgroup classifier (default: the shipped cxr classifier)")
    .option(
      "-p, --prompts <file-or-list>",
      'prompts file (one per line) or a ";"-separated list (default: neutral effusion / non-effusion prompts)',
    )
    .option("-n, --n <count>", "images per prompt", "64")
    .option("--seed <n>", "seed of the whole audit", "0")
    .option("--steps <n>", "sampler steps", "25")
    .option("--guidance <scale>", "classifier-free guidance scale", "3")
    .option("--scheduler <name>", "ddim | ddpm | dpm-solver++", "ddim")
    .option("-o, --out <file>", "HTML report to write", "report.html")
    .option("--json <file>", "also write the report as JSON (AuditReport.load reads it)")
    .option("--markdown <file>", "also write the report as Markdown")
    .option(
      "--target <spec>",
      "target distribution, e.g. sex=Female:0.5,Male:0.5 (repeat or join with ; — default uniform)",
      collect,
    )
    .option(
      "--intersections <list>",
      'intersections to audit, e.g. "sex,race" (several with ;); with --quality they split FID and KID too',
    )
    .option("--attributes <list>", "attribute heads to audit, e.g. sex,race (default: all)")
    .option("--resamples <n>", "bootstrap resamples per interval", "2000")
    .option(
      "--quality",
      "also audit image quality per group (FID, KID, ES-FID) on held-out real images",
    )
    .option(
      "--extractor <name>",
      "features for FID: project (the classifier's encoder) | radiomic | <tfjs graph model folder>",
    )
    .option(
      "--equal-groups",
      "with --quality: subsample every group to the smallest group's size, so group FIDs compare like with like",
    )
    .option("--no-kid", "with --quality: leave out KID (on by default beside every FID)")
    .option(
      "--no-memorisation",
      "with --quality: skip the search for near-copies of the training images (on by default)",
    )
    .option("--real <n>", "held-out real images for --quality", "256")
    .option("--real-seed <n>", "seed of the held-out real cohort", String(DEFAULT_REAL_SEED))
    .option("--title <text>", "report title")
    .addOption(backendFlag())
    .action(async (opts: AuditCommandOptions) => {
      // Ctrl-C stops generation cleanly; nothing is written for a stopped audit.
      const interrupt = interruptOnCtrlC("stopping the audit; no report is written");
      try {
        await auditCommand({ ...opts, signal: interrupt.signal });
      } catch (error) {
        if (!interrupt.interrupted) throw error;
        console.error("audit stopped; nothing written");
      } finally {
        interrupt.close();
      }
    });
}
