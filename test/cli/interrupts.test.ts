/**
 * Ctrl-C keeps its word: in `train`'s autoencoder stage (which used to print "saving state…" and
 * save nothing) the state is saved and named, a second Ctrl-C 50 ms later waits for the save
 * instead of killing it, and the command exits 130; a re-run resumes from the saved step.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const CLI = path.resolve(__dirname, "../../dist/src/cli/main.js");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-cli-interrupt-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...process.env, FAIRDIFF_BACKEND: "wasm" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const TRAIN = [
  "train",
  "-o",
  "m.fdckpt",
  "--autoencoder-steps",
  "400",
  "--denoiser-steps",
  "2",
  "--cohort-size",
  "32",
  "--replicas",
  "1",
];

test("Ctrl-C twice in the autoencoder stage saves its state, says where, and exits 130", async () => {
  const run = start(TRAIN);
  await until(() => /autoencoder .* 1\/400/.test(run.stderr()), 60_000);
  run.child.kill("SIGINT");
  await until(() => /interrupted: finishing the current step/.test(run.stderr()), 10_000);
  // A second Ctrl-C while the step finishes and the state is written (or, if that was quicker,
  // while the process exits) must not kill it: the exit is still 130, not death by signal.
  run.child.kill("SIGINT");
  const code = await run.exit;
  const stderr = run.stderr();
  expect(stderr).toMatch(/interrupted: finishing the current step, then saving state/);
  const saved = /state saved to (\S+) at step (\d+) \(autoencoder stage\)/.exec(stderr);
  expect(saved).not.toBeNull();
  expect(code).toBe(130);
  const [, file, step] = saved as RegExpExecArray;
  expect(fs.existsSync(path.resolve(dir, file))).toBe(true);
  expect(Number(step)).toBeGreaterThan(0);
  expect(Number(step)).toBeLessThan(400);
  expect(fs.existsSync(path.join(dir, "m.fdckpt"))).toBe(false);
  // Nothing half-written is left beside the outputs.
  expect(fs.readdirSync(dir).filter((name) => name.includes(".tmp-"))).toEqual([]);

  // The same command resumes from that step (its progress starts there) and can be stopped again.
  const again = start(TRAIN);
  await until(() => /autoencoder .* \d+\/400/.test(again.stderr()), 60_000);
  again.child.kill("SIGINT");
  expect(await again.exit).toBe(130);
  const resumedAt = /autoencoder .* (\d+)\/400/.exec(again.stderr()) as RegExpExecArray;
  expect(Number(resumedAt[1])).toBeGreaterThan(Number(step));
}, 120_000);
