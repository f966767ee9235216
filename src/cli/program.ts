/** The `fairdiff` program with every subcommand registered (the CLI and its tests build it). */
import { Command } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../features/packageRoot";
import { registerAuditCommand } from "./commands/audit";
import { registerBackendCommand } from "./commands/backend";
import { registerCheckpointCommand } from "./commands/checkpoint";
import { registerClassifierCommand } from "./commands/classifier";
import { registerCompareCommand } from "./commands/compare";
import { registerDatasetCommand } from "./commands/dataset";
import { registerEvaluateCommand } from "./commands/evaluate";
import { registerFinetuneCommand } from "./commands/finetune";
import { registerKernelCommand } from "./commands/kernel";
import { registerLabCommand } from "./commands/lab";
import { registerSampleCommand } from "./commands/sample";
import { registerStartCommand } from "./commands/start";
import { registerSweepCommand } from "./commands/sweep";
import { registerTrainCommand } from "./commands/train";
import { registerWorkerCommand } from "./commands/worker";

export function createProgram(): Command {
  const program = new Command();
  program
    .name("fairdiff")
    .description("Study and fix subgroup bias in text-to-medical-image diffusion models")
    .version(packageVersion(), "-V, --version", "print fairdiff's version");

  registerAuditCommand(program);
  registerBackendCommand(program);
  registerCheckpointCommand(program);
  registerClassifierCommand(program);
  registerCompareCommand(program);
  registerDatasetCommand(program);
  registerEvaluateCommand(program);
  registerFinetuneCommand(program);
  registerKernelCommand(program);
  registerLabCommand(program);
  registerSampleCommand(program);
  registerStartCommand(program);
  registerSweepCommand(program);
  registerTrainCommand(program);
  registerWorkerCommand(program);
  return program;
}

/** The version in the package's own package.json (the one the running code came with). */
export function packageVersion(): string {
  const manifest = path.join(packageRoot(__dirname), "package.json");
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}
