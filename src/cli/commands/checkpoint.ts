/**
 * `fairdiff checkpoint verify|upgrade`: check a checkpoint the way every load does (structure,
 * per-tensor SHA-256, finite values) and say what it holds; rewrite older files in the current
 * format so their corruption check applies too.
 */
import type { Command } from "commander";
import { loadCheckpoint } from "../../io/checkpoint";
import { checkpointFileVersion, upgradeCheckpoint } from "../../io/checkpointUpgrade";

export function registerCheckpointCommand(program: Command): void {
  const checkpoint = program.command("checkpoint").description("check or upgrade .fdckpt files");
  checkpoint
    .command("verify")
    .description("load each file with every check a model load makes, and summarise it")
    .argument("<files...>", "checkpoint files")
    .action((files: string[]) => {
      for (const file of files) {
        const loaded = loadCheckpoint(file);
        const tensors = Object.values(loaded.tensors);
        const values = tensors.reduce((n, t) => n + t.values.length, 0);
        const version = checkpointFileVersion(file);
        const hashes = version === 1 ? "no hashes (format 1: run upgrade)" : "SHA-256 verified";
        console.log(
          `${file}: ${loaded.kind}, format ${String(version)}, ${tensors.length} tensors, ${values.toLocaleString("en-US")} values, all finite, ${hashes}`,
        );
      }
    });
  checkpoint
    .command("upgrade")
    .description("rewrite files in the current format (per-tensor SHA-256), values bit for bit")
    .argument("<files...>", "checkpoint files")
    .action((files: string[]) => {
      for (const file of files) {
        const { from, to } = upgradeCheckpoint(file);
        console.log(`${file}: format ${String(from)} → ${to}, content identical`);
      }
    });
}
