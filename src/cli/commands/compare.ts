/**
 * `fairdiff compare`: plain fine-tuning and the three methods from one base model, with the same
 * prompts, target, seed and budget, each audited by the same audit, into one report (HTML, and
 * JSON / Markdown on request). Every flag is checked before the first model loads.
 */
import type { Command } from "commander";
import { describeBackend, useBackend } from "../../backend";
import type { BackendRequest } from "../../backend/backendInfo";
import { SubgroupClassifier } from "../../classifiers/subgroupClassifier";
import { shippedModelPath } from "../../features/packageRoot";
import { writeFileAtomic } from "../../io/atomicWrite";
import { checkReportFiles } from "../../io/outputPath";
import { FIX_NAMES, type FixName } from "../../methods/startFix";
import { compareFixes, type ComparisonProgress } from "../../study/compareFixes";
import {
  comparisonHtmlPage,
  comparisonMarkdown,
  comparisonSummary,
} from "../../study/comparisonPage";
import type { ComparisonOverrides } from "../../study/comparisonSettings";
import { saveFixComparison, type FixComparisonData } from "../../study/fixComparison";
import { backendFlag } from "../backendOption";
import { runUnlessInterrupted } from "../interrupt";
import {
  collect,
  optionalInteger,
  SAMPLER_STEP_RANGE,
  SEED_RANGE,
  STEP_RANGE,
} from "../optionValues";
import { ProgressBar } from "../progressBar";
import { parseTargetSpecs } from "../targetOption";
import { targetsForClassifier } from "../targetOption";

export interface CompareCommandOptions {
  quick?: boolean;
  fixes?: string;
  model?: string;
  classifier?: string;
  prompt?: string[];
  target?: string[];
  attributes?: string;
  steps?: string;
  batchSize?: string;
  seed?: string;
  auditSeed?: string;
  n?: string;
  auditSteps?: string;
  real?: string;
  memorisationImages?: string;
  /** commander's --no-clinical sets this false. */
  clinical?: boolean;
  out?: string;
  json?: string;
  markdown?: string;
  backend?: BackendRequest;
  signal?: AbortSignal;
  /** Progress bars go here (default stderr); tests pass a sink. */
  progress?: NodeJS.WritableStream;
  log?: (line: string) => void;
}

function parseFixes(spec: string): FixName[] {
  const names = spec
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (names.length === 0) throw new Error(`--fixes "${spec}" names no fix`);
  for (const name of names) {
    if (!FIX_NAMES.includes(name as FixName)) {
      throw new Error(`--fixes names unknown fix "${name}" (expected ${FIX_NAMES.join(", ")})`);
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`--fixes "${spec}" names a fix twice`);
  return names as FixName[];
}

/** The flags as settings overrides, each checked. */
function overridesFrom(opts: CompareCommandOptions): ComparisonOverrides {
  const overrides: ComparisonOverrides = {};
  const audit: NonNullable<ComparisonOverrides["audit"]> = {};
  const set = <T>(target: Record<string, unknown>, key: string, value: T | undefined) => {
    if (value !== undefined) target[key] = value;
  };
  if (opts.fixes !== undefined) overrides.fixes = parseFixes(opts.fixes);
  if (opts.prompt !== undefined) overrides.prompts = opts.prompt;
  if (opts.target !== undefined) overrides.target = parseTargetSpecs(opts.target);
  if (opts.attributes !== undefined) {
    overrides.attributes = opts.attributes.split(",").map((a) => a.trim());
  }
  set(overrides, "steps", optionalInteger("--steps", opts.steps, STEP_RANGE));
  set(
    overrides,
    "batchSize",
    optionalInteger("--batch-size", opts.batchSize, { min: 2, max: 256 }),
  );
  set(overrides, "seed", optionalInteger("--seed", opts.seed, SEED_RANGE));
  set(overrides, "auditSeed", optionalInteger("--audit-seed", opts.auditSeed, SEED_RANGE));
  set(audit, "imagesPerPrompt", optionalInteger("--n", opts.n, { min: 2 }));
  set(audit, "samplerSteps", optionalInteger("--audit-steps", opts.auditSteps, SAMPLER_STEP_RANGE));
  set(audit, "realImages", optionalInteger("--real", opts.real, { min: 0 }));
  set(
    audit,
    "memorisationImages",
    optionalInteger("--memorisation-images", opts.memorisationImages, { min: 0 }),
  );
  if (opts.clinical === false) audit.clinical = false;
  if (Object.keys(audit).length > 0) overrides.audit = audit;
  return overrides;
}

export async function compareCommand(
  opts: CompareCommandOptions,
): Promise<{ comparison: FixComparisonData; files: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const progress = opts.progress ?? process.stderr;
  const out = opts.out ?? "compare.html";
  checkReportFiles({ out, json: opts.json, markdown: opts.markdown });
  const overrides = overridesFrom(opts);
  const modelFile = opts.model ?? shippedModelPath("cxr-mini.fdckpt");
  const classifierFile = opts.classifier ?? shippedModelPath("cxr-classifier.fdckpt");
  if (overrides.target !== undefined) {
    // Groups checked against the classifier's heads before minutes of fine-tuning.
    const classifier = SubgroupClassifier.load(classifierFile);
    try {
      overrides.target = targetsForClassifier(overrides.target, classifier);
    } finally {
      classifier.dispose();
    }
  }
  progress.write(`${describeBackend(await useBackend(opts.backend))}\n`);
  const bars = new Map<string, ProgressBar>();
  const onProgress = (p: ComparisonProgress) => {
    const label = p.stage === "audit" ? `audit ${p.row}: ${p.part}` : `fine-tune ${p.row}`;
    let bar = bars.get(label);
    const total = p.stage === "audit" ? p.total : p.totalSteps;
    if (!bar)
      bars.set(label, (bar = new ProgressBar(label, total, progress as NodeJS.WriteStream)));
    bar.update(p.stage === "audit" ? p.done : p.step + 1);
  };
  const comparison = await compareFixes({
    quick: opts.quick === true,
    settings: overrides,
    modelFile,
    classifierFile,
    signal: opts.signal,
    onProgress,
  });
  const files = [out];
  writeFileAtomic(out, comparisonHtmlPage(comparison));
  if (opts.json !== undefined) {
    saveFixComparison(opts.json, comparison);
    files.push(opts.json);
  }
  if (opts.markdown !== undefined) {
    writeFileAtomic(opts.markdown, comparisonMarkdown(comparison));
    files.push(opts.markdown);
  }
  log(comparisonSummary(comparison));
  for (const file of files) log(`wrote ${file}`);
  return { comparison, files };
}

export function registerCompareCommand(program: Command): void {
  program
    .command("compare")
    .description(
      "plain fine-tuning and the three methods from one base model, same prompts, target, seed and budget, audited alike, in one report",
    )
    .option("--quick", "small settings: a first look in a couple of minutes (CI runs this)")
    .option("--fixes <list>", `fixes to run, of ${FIX_NAMES.join(",")} (default: all four)`)
    .option("-m, --model <file>", "base model (default: the shipped cxr-mini)")
    .option("-c, --classifier <file>", "subgroup classifier (default: the shipped cxr classifier)")
    .option(
      "--prompt <text>",
      "prompt to debias and audit (repeatable; default the neutral effusion prompt)",
      collect,
    )
    .option(
      "--target <spec>",
      "target, e.g. sex=Female:0.5,Male:0.5 (repeatable; default sex uniform)",
      collect,
    )
    .option("--attributes <list>", "attributes to audit (default sex,race)")
    .option("--steps <n>", "fine-tuning steps of every fix (quick 3, full 40)")
    .option("--batch-size <n>", "images per step of every fix (quick 4, full 8)")
    .option("--seed <n>", "fine-tuning seed of every fix (quick 0, full 3)")
    .option("--audit-seed <n>", "seed of every audit (21)")
    .option("-n, --n <count>", "images per prompt in each audit (quick 16, full 256)")
    .option("--audit-steps <n>", "DDIM steps of each audit's sampler (quick 5, full 25)")
    .option(
      "--real <n>",
      "held-out real images for the quality audit; 0 = none (quick 40, full 256)",
    )
    .option(
      "--memorisation-images <n>",
      "training images searched for near-copies; 0 = off (quick 400, full 4000)",
    )
    .option("--no-clinical", "skip the clinical AUC / ES-AUC probe")
    .option("-o, --out <file>", "HTML report to write", "compare.html")
    .option("--json <file>", "also write the comparison as JSON (every row's full audit)")
    .option("--markdown <file>", "also write the table as Markdown")
    .addOption(backendFlag())
    .action((opts: CompareCommandOptions) =>
      runUnlessInterrupted(
        "stopping the comparison; nothing is written",
        "comparison stopped; nothing written",
        (signal) => compareCommand({ ...opts, signal }),
      ),
    );
}
