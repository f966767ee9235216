/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts's `main` (a kebab-case name finds its
 * camelCase file: finetune-memory → finetuneMemory.ts). Benchmarks compare against a peer
 * measured in the same run and print ratios; they are not tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";

async function main(): Promise<void> {
  const [given, ...args] = process.argv.slice(2);
  const name = given?.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith(".js") && f !== "run.js")
    .map((f) => f.slice(0, -3));
  if (!name || !available.includes(name)) {
    const kebab = available.map((f) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    console.error(`usage: npm run bench -- <${kebab.join("|")}> [args]`);
    process.exit(name ? 1 : 0);
  }
  const mod = require(path.join(__dirname, name)) as { main(args: string[]): Promise<void> };
  await mod.main(args);
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
