/**
 * `fairdiff audit`: audit a text-to-image model for subgroup representation (and, with
 * --quality, image quality per group: FID and KID, also per --intersections group) and write the
 * report as HTML (and JSON / Markdown).
 * Defaults: the shipped cxr-mini model and cohort classifier, neutral prompts that name no sex
 * or race, so the images show what the model does when the prompt leaves the choice to it.
 *
 * Scale-out (docs/scale-out.md): `--workers N` runs the audit's shards in N processes on this
 * machine (default: one per core); `--queue redis://…` hands them to `fairdiff worker`s on any
 * number of machines; `--shard i/n --part-out f` computes one shard's part, and `fairdiff audit
 * merge parts…` merges parts into the report. Every way gives the same report.
 *
 * Every input is checked before any image is generated: a bad --target, --intersections or
 * prompts file fails in a second with a message naming the bad value.
 */
import * as os from "node:os";
import { backendFlag } from "../backendOption";
import { useBackend } from "../../backend";
import type { BackendRequest } from "../../backend/backendInfo";
import type { Command } from "commander";
import * as fs from "node:fs";
import type { AuditReport } from "../../audit/auditReport";
import type { AuditPart } from "../../audit/auditPart";
import { auditPartToJson, loadAuditPart } from "../../audit/auditPartJson";
import { prepareAudit } from "../../audit/auditShard";
import { parseShard, WHOLE_AUDIT } from "../../audit/auditUnits";
import { mergeAuditParts } from "../../audit/mergeAuditParts";
import { runAudit, type AuditProgress } from "../../audit/runAudit";
import { backendInfo } from "../../backend";
import { chestFindingsPrompt } from "../../data/prompts";
import { CARDIOMEGALY, NEUTRAL_EFFUSION_PROMPT } from "../../data/cohorts/chestRadiograph";
import { writeFileAtomic } from "../../io/atomicWrite";
import { checkOutputFile, checkReportFiles } from "../../io/outputPath";
import type { SchedulerName } from "../../schedulers/createScheduler";
import { openAudit, SCHEDULERS, type AuditRequest } from "../../scale/auditRequest";
import { JobProcess, type ChildKind } from "../../scale/jobProcess";
import { checkRedis, DEFAULT_QUEUE_NAME, redisOptions } from "../../scale/redisConnection";
import { imageUnits, runScaledAudit, type ScaleOut } from "../../scale/scaledAudit";
import { interruptOnCtrlC } from "../interrupt";
import {
  choiceOption,
  collect,
  integerOption,
  numberOption,
  SAMPLER_STEP_RANGE,
  SEED_RANGE,
} from "../optionValues";
import { ProgressBar } from "../progressBar";
import { parseTargetSpecs } from "../targetOption";

export { parseIntersections } from "../../scale/auditRequest";

/** Neutral prompts, no sex or race named: each finding the classifier reads, and none. */
export const DEFAULT_AUDIT_PROMPTS: readonly string[] = [
  NEUTRAL_EFFUSION_PROMPT,
  chestFindingsPrompt({ findings: [CARDIOMEGALY] }),
  chestFindingsPrompt({ findings: [] }),
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
  /** Compute shard i/n only ("2/3") and write its part to --part-out; no report. */
  shard?: string;
  partOut?: string;
  /** Processes on this machine, one shard each (the command line's default: one per core). */
  workers?: string;
  /** With --workers: worker threads instead of child processes. */
  threads?: boolean;
  /** A Redis URL: shards go to `fairdiff worker`s through a BullMQ queue. */
  queue?: string;
  queueName?: string;
  /** Shards (queue jobs) with --queue (default: one per batch of images). */
  shards?: string;
  /** With --queue: a folder every machine can read, for the parts (instead of Redis). */
  results?: string;
  /** Stops the audit (the command wires Ctrl-C to it). */
  signal?: AbortSignal;
  /** Progress bars go here (default stderr); tests pass a sink. */
  progress?: NodeJS.WriteStream;
  /** Summary and "wrote" lines (default: console). */
  log?: (line: string) => void;
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

/** The request the options describe, every value parsed and checked (nothing loads yet). */
export function auditRequestFromOptions(opts: AuditCommandOptions): AuditRequest {
  const prompts =
    opts.prompts === undefined ? [...DEFAULT_AUDIT_PROMPTS] : parsePrompts(opts.prompts);
  const scheduler = choiceOption<SchedulerName>(
    "--scheduler",
    opts.scheduler ?? "ddim",
    SCHEDULERS,
  );
  const request: AuditRequest = {
    ...(opts.model === undefined ? {} : { model: opts.model }),
    ...(opts.classifier === undefined ? {} : { classifier: opts.classifier }),
    prompts,
    imagesPerPrompt: integerOption("--n", opts.n ?? "64", { min: 2 }),
    seed: integerOption("--seed", opts.seed ?? "0", SEED_RANGE),
    steps: integerOption("--steps", opts.steps ?? "25", SAMPLER_STEP_RANGE),
    guidanceScale: numberOption("--guidance", opts.guidance ?? "3", { min: 0 }),
    scheduler,
    resamples: integerOption("--resamples", opts.resamples ?? "2000", {
      min: 10,
      max: 1_000_000,
    }),
    target: opts.target ?? [],
    ...(opts.intersections === undefined ? {} : { intersections: opts.intersections }),
    ...(opts.attributes === undefined ? {} : { attributes: opts.attributes }),
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
  };
  parseTargetSpecs(request.target);
  const realCount = integerOption("--real", opts.real ?? "256", { min: 2 });
  const realSeed = integerOption(
    "--real-seed",
    opts.realSeed ?? String(DEFAULT_REAL_SEED),
    SEED_RANGE,
  );
  if (opts.quality) {
    request.quality = {
      real: realCount,
      realSeed,
      extractor: opts.extractor ?? "project",
      equalGroups: opts.equalGroups === true,
      kid: opts.kid !== false,
      memorisation: opts.memorisation !== false,
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
  return request;
}

/** One progress bar per stage, written to `stream`. */
function progressBars(stream: NodeJS.WriteStream): (p: AuditProgress) => void {
  const bars = new Map<string, ProgressBar>();
  return (p) => {
    const label = p.stage === "representation" ? "images" : `quality ${p.step ?? ""}`.trim();
    let bar = bars.get(label);
    if (!bar) bars.set(label, (bar = new ProgressBar(label, p.total, stream)));
    bar.update(p.done);
  };
}

/** How the audit is spread: on this machine (--workers) or through a queue (--queue). */
function scaleOut(opts: AuditCommandOptions): ScaleOut | { kind: "in-process" } {
  const workers =
    opts.workers === undefined
      ? 1
      : integerOption("--workers", opts.workers, {
          min: 1,
          max: 256,
          maxReason: "one process per core",
        });
  if (opts.queue !== undefined) {
    if (opts.workers !== undefined)
      throw new Error(
        "--workers and --queue exclude each other: a queue's workers are `fairdiff worker`s",
      );
    if (opts.threads)
      throw new Error(
        "--threads applies to --workers on this machine; give it to `fairdiff worker`",
      );
    redisOptions(opts.queue, "--queue");
    return {
      kind: "queue",
      url: opts.queue,
      queueName: opts.queueName ?? DEFAULT_QUEUE_NAME,
      shards:
        opts.shards === undefined
          ? 0
          : integerOption("--shards", opts.shards, { min: 1, max: 100_000 }),
      ...(opts.results === undefined ? {} : { results: opts.results }),
    };
  }
  for (const [flag, value] of [
    ["--shards", opts.shards],
    ["--results", opts.results],
    ["--queue-name", opts.queueName],
  ] as const) {
    if (value !== undefined) throw new Error(`${flag} only applies with --queue`);
  }
  if (opts.threads && workers < 2) throw new Error("--threads applies with --workers 2 or more");
  return workers > 1
    ? { kind: "local", workers, ...(opts.threads ? { child: "thread" as ChildKind } : {}) }
    : { kind: "in-process" };
}

export async function auditCommand(
  opts: AuditCommandOptions,
): Promise<{ report: AuditReport; files: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const progress = opts.progress ?? process.stderr;
  const request = auditRequestFromOptions(opts);
  const scale = scaleOut(opts);
  const out = opts.out ?? "report.html";
  checkReportFiles({ out, json: opts.json, markdown: opts.markdown });
  // An unreachable queue fails now, not after the models load.
  if (scale.kind === "queue") await checkRedis(scale.url, "--queue");
  if (scale.kind === "queue" && scale.results !== undefined) {
    fs.mkdirSync(scale.results, { recursive: true });
    checkOutputFile("--results", `${scale.results}/probe.json`);
  }

  const started = performance.now();
  // Local children start now: their start-up (node, tfjs) overlaps this process loading the
  // models and planning the audit.
  const children =
    scale.kind === "local"
      ? Array.from({ length: scale.workers }, () => new JobProcess(scale.child))
      : [];
  let report: AuditReport;
  try {
    report = await coordinate(opts, request, scale, children, started, progress);
  } finally {
    // Idempotent: the shards' run closes them already; this covers a failure before it.
    await Promise.all(children.map((child) => child.close()));
  }
  const files = writeReport(report, { out, json: opts.json, markdown: opts.markdown });
  log(report.toString());
  for (const file of files) log(`wrote ${file}`);
  return { report, files };
}

/** Opens and runs the audit — here, on local children, or through the queue — and merges. */
async function coordinate(
  opts: AuditCommandOptions,
  request: AuditRequest,
  scale: ScaleOut | { kind: "in-process" },
  children: JobProcess[],
  started: number,
  progress: NodeJS.WriteStream,
): Promise<AuditReport> {
  const opened = await openAudit(request, (line) => progress.write(`${line}\n`));
  let report: AuditReport;
  try {
    const onProgress = progressBars(progress);
    if (scale.kind === "in-process") {
      report = await runAudit(opened.model, opened.classifier, {
        ...opened.options,
        title: opts.title,
        signal: opts.signal,
        onProgress,
      });
    } else {
      const prepared = await prepareAudit(opened.model, opened.classifier, opened.options);
      try {
        const resolved: ScaleOut =
          scale.kind === "queue" && scale.shards === 0
            ? { ...scale, shards: imageUnits(prepared) }
            : scale.kind === "local"
              ? { ...scale, children }
              : scale;
        if (resolved.kind === "queue") {
          progress.write(
            `audit ${prepared.fingerprint.slice(0, 8)}: ${resolved.shards} shard(s) on ${resolved.url}, queue "${resolved.queueName}"\n`,
          );
        }
        // One unit of work cannot be split: a child would only add its start-up.
        const parts =
          resolved.kind === "local" && imageUnits(prepared) < 2
            ? [await prepared.runShard(WHOLE_AUDIT, { signal: opts.signal, onProgress })]
            : await runScaledAudit({
                // Workers use the backend this process chose (a fingerprint includes it).
                request: { ...request, backend: backendInfo().name },
                prepared,
                scale: resolved,
                signal: opts.signal,
                onProgress: (done, total) => onProgress({ stage: "representation", done, total }),
                log: (line) => progress.write(`${line}\n`),
              });
        report = await mergeAuditParts(parts, {
          title: opts.title,
          signal: opts.signal,
          onProgress,
          startedAt: started,
        });
      } finally {
        prepared.dispose();
      }
    }
  } finally {
    opened.dispose();
  }
  return report;
}

/** Writes the report's HTML (and JSON, Markdown); returns the files written. */
function writeReport(
  report: AuditReport,
  to: { out: string; json?: string; markdown?: string },
): string[] {
  const files = [to.out];
  writeFileAtomic(to.out, report.toHTML());
  if (to.json !== undefined) {
    report.save(to.json);
    files.push(to.json);
  }
  if (to.markdown !== undefined) {
    writeFileAtomic(to.markdown, report.toMarkdown());
    files.push(to.markdown);
  }
  return files;
}

/** `--shard i/n --part-out file`: one shard's part, written atomically. */
export async function auditShardCommand(
  opts: AuditCommandOptions,
): Promise<{ part: AuditPart; files: string[] }> {
  const progress = opts.progress ?? process.stderr;
  const log = opts.log ?? ((line: string) => console.log(line));
  const shard = parseShard(opts.shard ?? "", "--shard");
  const request = auditRequestFromOptions(opts);
  if (opts.partOut === undefined) {
    throw new Error("--shard needs --part-out <file>: where the shard's part is written");
  }
  for (const [flag, value] of [
    ["--workers", opts.workers],
    ["--queue", opts.queue],
    ["--out", opts.out],
    ["--json", opts.json],
    ["--markdown", opts.markdown],
  ] as const) {
    if (value !== undefined)
      throw new Error(`${flag} does not apply with --shard: a shard writes its part only`);
  }
  checkOutputFile("--part-out", opts.partOut);
  const opened = await openAudit(request, (line) => progress.write(`${line}\n`));
  try {
    const prepared = await prepareAudit(opened.model, opened.classifier, opened.options);
    try {
      const part = await prepared.runShard(shard, {
        signal: opts.signal,
        onProgress: progressBars(progress),
      });
      writeFileAtomic(opts.partOut, JSON.stringify(auditPartToJson(part)));
      const images =
        part.representation.reduce((n, b) => n + b.count, 0) +
        (part.quality?.batches.reduce((n, b) => n + b.count, 0) ?? 0);
      log(
        `shard ${shard.index}/${shard.count} of audit ${part.fingerprint.slice(0, 8)}: ${images} images in ${(part.elapsedMs.total / 1000).toFixed(1)} s`,
      );
      log(`wrote ${opts.partOut}`);
      return { part, files: [opts.partOut] };
    } finally {
      prepared.dispose();
    }
  } finally {
    opened.dispose();
  }
}

export interface AuditMergeOptions {
  out?: string;
  json?: string;
  markdown?: string;
  title?: string;
  /** The clinical probe, when the parts carry it, trains at merge time: on this backend. */
  backend?: BackendRequest;
  log?: (line: string) => void;
}

/** `fairdiff audit merge parts…`: every part of one audit → its report. */
export async function auditMergeCommand(
  partFiles: readonly string[],
  opts: AuditMergeOptions,
): Promise<{ report: AuditReport; files: string[] }> {
  const log = opts.log ?? ((line: string) => console.log(line));
  if (partFiles.length === 0)
    throw new Error("audit merge needs the part files, e.g. parts/*.json");
  const out = opts.out ?? "report.html";
  checkReportFiles({ out, json: opts.json, markdown: opts.markdown });
  const parts = partFiles.map((file) => loadAuditPart(file));
  await useBackend(opts.backend);
  const report = await mergeAuditParts(parts, { title: opts.title });
  const files = writeReport(report, { out, json: opts.json, markdown: opts.markdown });
  log(report.toString());
  for (const file of files) log(`wrote ${file}`);
  return { report, files };
}

export function registerAuditCommand(program: Command): void {
  // `audit merge -o x`: options after a subcommand are its own (audit's come before it).
  program.enablePositionalOptions();
  const audit = program
    .command("audit")
    .enablePositionalOptions()
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
    .option("-o, --out <file>", "HTML report to write (default report.html)")
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
    .option(
      "--workers <n>",
      "processes on this machine, one shard each (one per core unless given)",
      String(os.availableParallelism()),
    )
    .option("--threads", "with --workers: worker threads instead of child processes")
    .option(
      "--queue <redis-url>",
      "hand the shards to `fairdiff worker`s through this Redis (e.g. redis://host:6379), then merge",
    )
    .option("--queue-name <name>", `with --queue: the queue's name (default ${DEFAULT_QUEUE_NAME})`)
    .option("--shards <n>", "with --queue: shards, one job each (default: one per batch of images)")
    .option(
      "--results <folder>",
      "with --queue: a folder every machine can read, for the parts (default: in Redis)",
    )
    .option("--shard <i/n>", "compute shard i of n only and write its part (see --part-out)")
    .option("--part-out <file>", "with --shard: the part file to write")
    .addOption(backendFlag())
    .action(async (opts: AuditCommandOptions) => {
      // Ctrl-C stops generation cleanly; nothing is written for a stopped audit.
      const interrupt = interruptOnCtrlC("stopping the audit; no report is written");
      try {
        // --workers defaults to the cores for a whole audit on this machine only: a shard is
        // one process, and a queue's workers are `fairdiff worker`s elsewhere.
        const given = { ...opts, signal: interrupt.signal };
        if (!workersGiven(audit) && (opts.shard !== undefined || opts.queue !== undefined)) {
          delete given.workers;
        }
        if (opts.shard !== undefined) await auditShardCommand(given);
        else await auditCommand(given);
      } catch (error) {
        if (!interrupt.interrupted) throw error;
        console.error("audit stopped; nothing written");
      } finally {
        interrupt.close();
      }
    });
  audit
    .command("merge")
    .description("merge the parts of a sharded audit (fairdiff audit --shard i/n) into its report")
    .argument("<parts...>", "part files, every shard of one audit once, e.g. parts/*.json")
    .option("-o, --out <file>", "HTML report to write", "report.html")
    .option("--json <file>", "also write the report as JSON")
    .option("--markdown <file>", "also write the report as Markdown")
    .option("--title <text>", "report title")
    .addOption(backendFlag())
    .action(async (parts: string[], opts: AuditMergeOptions) => {
      await auditMergeCommand(parts, opts);
    });
}

/** Whether --workers was given on the command line (not its default). */
function workersGiven(command: Command): boolean {
  return command.getOptionValueSource("workers") === "cli";
}
