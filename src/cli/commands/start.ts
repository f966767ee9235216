/**
 * `fairdiff start` (what `npm start` runs): opens FairDiff Lab — JupyterLab with the fairdiff
 * kernel and widgets, the notebooks/ folder open — where a Jupyter server is installed. Where
 * none is (or with --headless), it says exactly what to install and runs the embedded study
 * instead: audit the default model, fix its bias with Method 1, audit again, write a
 * self-contained HTML page and print the headline numbers.
 */
import { backendFlag } from "../backendOption";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { describeBackend, useBackend } from "../../backend";
import type { BackendRequest } from "../../backend/backendInfo";
import { packageRoot } from "../../features/packageRoot";
import { runStudy, type StudyAttribute, type StudyProgress, type StudyResult } from "../../study";
import { checkOutputFile } from "../../io/outputPath";
import { labModeFlags, labServerEnvironment } from "../labEnvironment";
import { quickMode } from "../../util/quickMode";
import { integerOption, PORT_RANGE } from "../optionValues";
import { ProgressBar } from "../progressBar";
import { installKernelSpec } from "./kernel";

export interface StartOptions {
  headless?: boolean;
  quick?: boolean;
  out?: string;
  json?: string;
  port?: string;
  backend?: BackendRequest;
}

/** What FairDiff Lab needs that this machine lacks (empty: it can run). */
export function labRequirementsMissing(
  python = process.env.FAIRDIFF_PYTHON ?? "/usr/bin/python3",
  root = packageRoot(__dirname),
): string[] {
  const missing: string[] = [];
  const probe = spawnSync(python, ["-c", "import jupyter_server, jupyterlab_server"], {
    encoding: "utf8",
  });
  if (probe.error) {
    missing.push(
      `a Python 3 at ${python} (set FAIRDIFF_PYTHON to use another) with jupyter_server and jupyterlab_server: ` +
        "sudo apt-get install python3-jupyter-server python3-jupyterlab-server " +
        "(or pip install jupyter_server jupyterlab_server)",
    );
  } else if (probe.status !== 0) {
    missing.push(
      `the Jupyter server for ${python}: sudo apt-get install python3-jupyter-server python3-jupyterlab-server ` +
        "(Debian/Ubuntu), or pip install jupyter_server jupyterlab_server",
    );
  }
  if (!existsSync(path.join(root, "extension", "app", "build", "bundle.js"))) {
    missing.push("the FairDiff Lab front end: run npm run build (npm install does it)");
  }
  return missing;
}

function pct(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : "–";
}

function shares(a: StudyAttribute): string {
  return a.groups
    .map(
      (g, i) =>
        `${g} ${pct(a.shares[i].estimate)} [${pct(a.shares[i].lower)}, ${pct(a.shares[i].upper)}]`,
    )
    .join(", ");
}

/** The headline numbers, one line each (what a person reads before opening the page). */
export function studySummary(result: StudyResult): string[] {
  const lines: string[] = [`prompt: “${result.settings.prompt}”`];
  for (const before of result.before.attributes) {
    const after = result.after.attributes.find((a) => a.attribute === before.attribute)!;
    lines.push(
      `${before.attribute}: before ${shares(before)}; bias ${before.bias.estimate.toFixed(3)}`,
      `${" ".repeat(before.attribute.length)}  after  ${shares(after)}; bias ${after.bias.estimate.toFixed(3)}`,
    );
    if (before.esFid !== undefined && after.esFid !== undefined) {
      lines.push(
        `${" ".repeat(before.attribute.length)}  ES-FID ${before.esFid.toFixed(2)} → ${after.esFid.toFixed(2)}`,
      );
    }
  }
  const h = result.headline;
  const verdict =
    h.biasAfter < h.biasBefore
      ? "lower: Method 1 moved the model toward the target"
      : "NOT lower: the short run did not reduce the bias (try the full run, or more steps)";
  lines.push(
    `${h.attribute} bias ${h.biasBefore.toFixed(3)} → ${h.biasAfter.toFixed(3)} after ${result.training.steps.length} steps of Method 1 — ${verdict}`,
  );
  return lines;
}

/** Progress bars for the study's stages (a new bar per stage and part). */
function studyProgressBars(stream: NodeJS.WriteStream): (p: StudyProgress) => void {
  const bars = new Map<string, ProgressBar>();
  const bar = (key: string, label: string, total: number) => {
    let b = bars.get(key);
    if (!b) bars.set(key, (b = new ProgressBar(label, total, stream)));
    return b;
  };
  return (p) => {
    if (p.stage === "load") {
      stream.write(`loading ${p.model}\n        ${p.classifier}\n`);
    } else if (p.stage === "audit-before" || p.stage === "audit-after") {
      const when = p.stage === "audit-before" ? "audit before" : "audit after ";
      bar(`${p.stage}:${p.part}`, `${when} · ${p.part}`, p.total).update(p.done);
    } else if (p.stage === "fix") {
      bar("fix", "Method 1 fine-tuning", p.totalSteps).update(
        p.step,
        `loss ${p.loss.toFixed(3)} batch bias ${p.batchBias.toFixed(2)}`,
      );
    }
  };
}

export async function runHeadlessStudy(opts: StartOptions): Promise<StudyResult> {
  const info = await useBackend(opts.backend as BackendRequest | undefined);
  console.log(describeBackend(info));
  const quick = opts.quick === true;
  const out = path.resolve(opts.out ?? "fairdiff-study.html");
  console.log(
    `\nThe study (${quick ? "quick" : "full"}): audit cxr-mini on a prompt that names no sex → fix it with Method 1 (distributional alignment) → audit again.\n`,
  );
  const result = await runStudy({
    quick,
    out,
    json: opts.json === undefined ? undefined : path.resolve(opts.json),
    onProgress: studyProgressBars(process.stderr),
  });
  console.log("");
  for (const line of studySummary(result)) console.log(line);
  for (const file of result.files) console.log(`wrote ${file}`);
  console.log(`(${(result.elapsedMs / 1000).toFixed(0)} s)`);
  return result;
}

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description(
      "open FairDiff Lab (JupyterLab with fairdiff) on the notebooks; without a Jupyter server, run the built-in study headlessly",
    )
    .option("--headless", "run the built-in study even where FairDiff Lab could open")
    .option(
      "--quick",
      "quick mode: in FairDiff Lab, every notebook's (FAIRDIFF_QUICK=1); headless, small study settings (about a minute on two cores)",
    )
    .option("-o, --out <file>", "the study's HTML page", "fairdiff-study.html")
    .option("--json <file>", "also write the study's numbers and both audits as JSON")
    .option("--port <n>", "FairDiff Lab's port", "8888")
    .addOption(backendFlag())
    .action(async (opts: StartOptions, command: Command) => {
      integerOption("--port", opts.port ?? "8888", PORT_RANGE);
      if (opts.out !== undefined) checkOutputFile("--out", opts.out);
      if (opts.json !== undefined) checkOutputFile("--json", opts.json);
      if (!opts.headless) {
        const missing = labRequirementsMissing();
        if (missing.length === 0) {
          await openLab(opts, command);
          return;
        }
        console.log("FairDiff Lab cannot open here. It needs:");
        for (const m of missing) console.log(`  - ${m}`);
        console.log("Running the built-in study headlessly instead.\n");
      }
      await runHeadlessStudy(opts);
    });
}

/** Installs the kernelspec for this user and serves FairDiff Lab on notebooks/ (`lab serve`). */
async function openLab(opts: StartOptions, command: Command): Promise<void> {
  const notebooks = path.join(packageRoot(__dirname), "notebooks");
  const kernelDir = installKernelSpec({
    user: true,
    name: "fairdiff",
    displayName: "fairdiff (TypeScript)",
    interruptMode: "signal",
  });
  console.log(
    `kernelspec "fairdiff" installed in ${kernelDir}: it starts the kernel from this folder (${packageRoot(__dirname)}), ` +
      "so moving or deleting the folder breaks it; jupyter kernelspec remove fairdiff removes it",
  );
  console.log(
    `FairDiff Lab: JupyterLab with the fairdiff kernel and widgets, on ${notebooks}.\n` +
      "Open the URL printed below (it carries the access token); start with 01-audit.ipynb.\n" +
      "Ctrl-C stops the server. No Jupyter wanted? npm start -- --headless runs the study instead.",
  );
  const env = labServerEnvironment({ backend: opts.backend, quick: opts.quick });
  console.log(
    `Kernels: backend ${env.FAIRDIFF_BACKEND?.trim() || "auto"}, ${quickMode(env) ? "quick mode (small samples, few steps)" : "full settings (npm start -- --quick for the quick mode)"}` +
      " — shown in the lab's status bar.\n",
  );
  const program = command.parent;
  if (!program) throw new Error("fairdiff start must be run from the fairdiff program");
  await program.parseAsync(
    [
      "lab",
      "serve",
      "--dir",
      notebooks,
      "--port",
      opts.port ?? "8888",
      ...labModeFlags({ backend: opts.backend, quick: opts.quick }),
    ],
    { from: "user" },
  );
}
