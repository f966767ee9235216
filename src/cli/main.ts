#!/usr/bin/env node
/** The `fairdiff` command line. Each subcommand is a thin view over the library. */
import { Command } from "commander";
import { describeBackend, useBackend, type BackendRequest } from "../backend";

const program = new Command();
program
  .name("fairdiff")
  .description("Study and fix subgroup bias in text-to-medical-image diffusion models");

program
  .command("backend")
  .description("choose a tfjs backend and say why the others were not chosen")
  .option("-b, --backend <name>", "auto | tensorflow | webgpu | wasm | cpu", "auto")
  .action(async (opts: { backend: BackendRequest }) => {
    const info = await useBackend(opts.backend);
    console.log(describeBackend(info));
  });

program.parseAsync(process.argv).catch((error: Error) => {
  console.error(`fairdiff: ${error.message}`);
  process.exit(1);
});
