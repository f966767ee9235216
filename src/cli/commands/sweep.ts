/**
 * `fairdiff sweep --method align --seeds 0..9 --lr 1e-3,3e-3 --out-dir runs/`: one fine-tuning
 * run per (seed, learning rate), each writing its tuned model and a JSON summary (start and end
 * evaluation) into --out-dir. With --queue the runs are jobs for `fairdiff worker`s on any number
 * of machines (--out-dir must then be a folder they all read and write); without, they run here,
 * one after another. A run whose summary is already there is not redone, so a stopped sweep
 * continues where it stopped.
 */
import * as path from "node:path";
import type { Command } from "commander";
import { checkOutputFile } from "../../io/outputPath";
import { jobIdOf, runQueuedJobs } from "../../scale/queueCoordinator";
import { DEFAULT_QUEUE_NAME, redisOptions } from "../../scale/redisConnection";
import {
  runSweepJob,
  sweepRunName,
  sweepRunSha256,
  type SweepRun,
  type SweepSummary,
} from "../../scale/sweepRun";
import { backendFlag } from "../backendOption";
import { interruptOnCtrlC } from "../interrupt";
import {
  choiceOption,
  integerOption,
  numberOption,
  optionalChoice,
  optionalInteger,
  SAMPLER_STEP_RANGE,
  SEED_RANGE,
  STEP_RANGE,
} from "../optionValues";
import { ProgressBar } from "../progressBar";
import { parseTargetSpecs } from "../targetOption";
import { NEUTRAL_EFFUSION_PROMPT } from "../../data/cohorts/chestRadiograph";
import { CHECKPOINT_TRAINABLE, METHODS, promptFlag, targetFlag } from "./finetune";

/** The most runs one sweep may hold: a typo (0..99999) should not fill a queue. */
const MAX_RUNS = 10_000;

export interface SweepCommandOptions {
  method?: string;
  seeds?: string;
  lr?: string;
  outDir?: string;
  queue?: string;
  queueName?: string;
  model?: string;
  classifier?: string;
  prompt?: string[];
  target?: string[];
  steps?: string;
  batchSize?: string;
  evalImages?: string;
  evalSteps?: string;
  samplingSteps?: string;
  rank?: string;
  trainable?: string;
  cohortSize?: string;
  checkpointEvery?: string;
  backend?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progress?: NodeJS.WriteStream;
}

/** "0..9" → 0 … 9; "0,3,7" and "0..2,10" too; every seed checked. */
export function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  for (const part of spec.split(",").map((p) => p.trim())) {
    const range = /^(\S+)\s*\.\.\s*(\S+)$/.exec(part);
    if (range) {
      const from = integerOption("--seeds", range[1], SEED_RANGE);
      const to = integerOption("--seeds", range[2], SEED_RANGE);
      if (to < from) throw new Error(`--seeds "${part}": the range ends before it starts`);
      if (to - from + 1 > MAX_RUNS)
        throw new Error(`--seeds "${part}" holds more than ${MAX_RUNS} seeds`);
      for (let s = from; s <= to; s++) seeds.push(s);
    } else {
      seeds.push(integerOption("--seeds", part, SEED_RANGE));
    }
  }
  if (new Set(seeds).size !== seeds.length) throw new Error(`--seeds "${spec}" names a seed twice`);
  return seeds;
}

/** "1e-3,3e-3" → [0.001, 0.003], each > 0, none twice. */
export function parseLearningRates(spec: string): number[] {
  const rates = spec.split(",").map((p) => numberOption("--lr", p, { above: 0, max: 10 }));
  if (new Set(rates).size !== rates.length) throw new Error(`--lr "${spec}" names a rate twice`);
  return rates;
}

/** Every run of the sweep, settings checked (nothing loads yet). */
export function sweepRuns(opts: SweepCommandOptions): SweepRun[] {
  const method = choiceOption("--method", opts.method ?? "align", METHODS);
  if (opts.seeds === undefined) throw new Error("--seeds is required, e.g. --seeds 0..9");
  if (opts.lr === undefined) throw new Error("--lr is required, e.g. --lr 1e-3,3e-3");
  if (opts.outDir === undefined) {
    throw new Error("--out-dir is required: the folder the tuned models and summaries go to");
  }
  const seeds = parseSeeds(opts.seeds);
  const rates = parseLearningRates(opts.lr);
  if (seeds.length * rates.length > MAX_RUNS) {
    throw new Error(`${seeds.length} seeds × ${rates.length} rates is more than ${MAX_RUNS} runs`);
  }
  const target = opts.target ?? ["sex=Female:0.5,Male:0.5"];
  parseTargetSpecs(target);
  const trainable = optionalChoice("--trainable", opts.trainable, CHECKPOINT_TRAINABLE);
  const outDir = path.resolve(opts.outDir);
  checkOutputFile("--out-dir", path.join(outDir, "sweep.json"));
  const shared = {
    method,
    ...(opts.model === undefined ? {} : { model: path.resolve(opts.model) }),
    ...(opts.classifier === undefined ? {} : { classifier: path.resolve(opts.classifier) }),
    prompts: opts.prompt ?? [NEUTRAL_EFFUSION_PROMPT],
    target,
    steps: integerOption("--steps", opts.steps ?? "40", STEP_RANGE),
    batchSize: optionalInteger("--batch-size", opts.batchSize, { min: 1, max: 256 }),
    evalImages: integerOption("--eval-images", opts.evalImages ?? "32", { min: 2, max: 4096 }),
    evalSteps: integerOption("--eval-steps", opts.evalSteps ?? "25", SAMPLER_STEP_RANGE),
    samplingSteps: optionalInteger("--sampling-steps", opts.samplingSteps, SAMPLER_STEP_RANGE),
    rank: optionalInteger("--rank", opts.rank, { min: 1, max: 256 }),
    ...(trainable === undefined ? {} : { trainable: trainable as SweepRun["trainable"] }),
    cohortSize: optionalInteger("--cohort-size", opts.cohortSize, { min: 1 }),
    checkpointEvery: integerOption("--checkpoint-every", opts.checkpointEvery ?? "10", { min: 1 }),
    outDir,
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
  };
  return seeds.flatMap((seed) => rates.map((learningRate) => ({ ...shared, seed, learningRate })));
}

/** "sex 0.41 → 0.12": each attribute's bias at the first and last evaluation. */
function biasChange(summary: SweepSummary): string {
  const last = summary.last?.attributes ?? [];
  return last
    .map((a) => {
      const first = summary.first?.attributes.find((f) => f.attribute === a.attribute);
      return `${a.attribute} ${first ? `${first.bias.toFixed(3)} → ` : ""}${a.bias.toFixed(3)}`;
    })
    .join(", ");
}

export async function sweepCommand(
  opts: SweepCommandOptions,
): Promise<{ summaries: SweepSummary[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const progress = opts.progress ?? process.stderr;
  const runs = sweepRuns(opts);
  if (opts.queue !== undefined) redisOptions(opts.queue, "--queue");
  else if (opts.queueName !== undefined) throw new Error("--queue-name only applies with --queue");
  let summaries: SweepSummary[];
  if (opts.queue !== undefined) {
    const bar = new ProgressBar("sweep steps", runs.length * runs[0].steps, progress);
    const stepsDone = new Map<string, number>();
    const jobs = runs.map((run) => ({
      id: jobIdOf("sweep-run", sweepRunSha256(run), run.outDir),
      job: { kind: "sweep-run" as const, run },
      label: sweepRunName(run),
    }));
    const values = await runQueuedJobs(jobs, {
      url: opts.queue,
      queueName: opts.queueName,
      signal: opts.signal,
      log: (line) => progress.write(`${line}\n`),
      onProgress: (job, p) => {
        stepsDone.set(job.id, p.done);
        bar.update([...stepsDone.values()].reduce((a, b) => a + b, 0));
      },
    });
    summaries = values as unknown as SweepSummary[];
  } else {
    summaries = [];
    for (const run of runs) {
      const bar = new ProgressBar(sweepRunName(run), run.steps, progress);
      summaries.push(
        await runSweepJob(run, { signal: opts.signal, onProgress: (p) => bar.update(p.done) }),
      );
    }
  }
  for (const summary of summaries) {
    log(`${summary.name}: ${biasChange(summary) || "no evaluation"} (${summary.modelFile})`);
  }
  log(`wrote ${summaries.length} run(s) to ${runs[0].outDir}`);
  return { summaries };
}

export function registerSweepCommand(program: Command): void {
  program
    .command("sweep")
    .description(
      "fine-tune once per (seed, learning rate) — on this machine, or through a queue of `fairdiff worker`s",
    )
    .option(
      "--method <name>",
      "align (Shen et al.), subgroup (Han et al.) or perturb (FairDiffusion)",
      "align",
    )
    .option("--seeds <list>", "seeds, e.g. 0..9 or 0,3,7")
    .option("--lr <list>", "learning rates, e.g. 1e-3,3e-3")
    .option("--out-dir <folder>", "where each run's model and summary go (shared, with --queue)")
    .option(
      "--queue <redis-url>",
      "enqueue the runs for `fairdiff worker`s, e.g. redis://host:6379",
    )
    .option("--queue-name <name>", `with --queue: the queue's name (default ${DEFAULT_QUEUE_NAME})`)
    .option("-m, --model <file>", "model checkpoint (default: the shipped cxr-mini)")
    .option("-c, --classifier <file>", "subgroup classifier (default: the shipped one)")
    .addOption(promptFlag())
    .addOption(targetFlag())
    .option("--steps <n>", "fine-tuning steps per run", "40")
    .option("--batch-size <n>", "images per step (method default)")
    .option("--eval-images <n>", "images per prompt in the start and end evaluations", "32")
    .option("--eval-steps <n>", "sampler steps of the evaluation images", "25")
    .option("--sampling-steps <n>", "align/subgroup: DDIM steps of the tuned sampler")
    .option("--rank <n>", "LoRA rank")
    .option("--trainable <kind>", "align: text-lora or unet-lora")
    .option("--cohort-size <n>", "perturb: training examples rendered from the model's preset")
    .option(
      "--checkpoint-every <n>",
      "state file every n steps (a retried run resumes there)",
      "10",
    )
    .addOption(backendFlag())
    .action(async (opts: SweepCommandOptions) => {
      const interrupt = interruptOnCtrlC("stopping; finished runs are kept, the rest resume later");
      try {
        await sweepCommand({ ...opts, signal: interrupt.signal });
      } catch (error) {
        if (!interrupt.interrupted) throw error;
        console.error(`sweep stopped: ${(error as Error).message}`);
      } finally {
        interrupt.close();
      }
    });
}
