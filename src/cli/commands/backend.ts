/** `fairdiff backend`: which tfjs backend runs here, and why the others were not chosen. */
import { backendFlag } from "../backendOption";
import type { Command } from "commander";
import { describeBackend, useBackend, type BackendRequest } from "../../backend";

export function registerBackendCommand(program: Command): void {
  program
    .command("backend")
    .description("choose a tfjs backend and say why the others were not chosen")
    .addOption(backendFlag())
    .action(async (opts: { backend?: BackendRequest }) => {
      console.log(describeBackend(await useBackend(opts.backend)));
    });
}
