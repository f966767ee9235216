/**
 * Scale-out throughput (`npm run bench -- scale`): the same audit of the shipped cxr-mini, run as
 * a user runs it — `fairdiff audit` processes of the built CLI, timed wall to wall — with
 *   - `--workers 1` (one process does everything),
 *   - `--workers 2` (two child processes, one shard each; and with --threads: two threads),
 *   - `--queue` with two `fairdiff worker`s started cold for each repeat (a Redis on localhost),
 * in images/s and as ratios to one worker; each mode `--repeats` times (the spread is printed).
 * The start-up cost (node, tfjs, models, merge) is measured apart on a 4-image audit.
 *
 *   npm run bench -- scale [--n 64] [--steps 25] [--repeats 2] [--no-threads] [--no-queue]
 *
 * Representation audit only (default prompts, sex × race intersection, 2000 resamples): its
 * images are the cost; the quality audit splits the same way. The machine and its load average
 * are printed: a shared machine makes single timings noisy.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { redisServerAvailable, startRedis, type LocalRedis } from "./localRedis";
import { DEFAULT_AUDIT_PROMPTS } from "../src/cli/commands/audit";

const CLI = path.resolve(__dirname, "../src/cli/main.js");

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
}

const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");

function fairdiff(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`fairdiff ${args.join(" ")} failed:\n${result.stderr.slice(-2000)}`);
  }
  return (performance.now() - started) / 1000;
}

function startWorker(url: string, queueName: string): ChildProcess {
  return spawn(process.execPath, [CLI, "worker", "--queue", url, "--queue-name", queueName], {
    stdio: "ignore",
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await gone;
}

interface Mode {
  name: string;
  run: (args: string[], repeat: number) => Promise<number>;
}

function spread(times: number[]): string {
  return times.map((t) => t.toFixed(1)).join(", ");
}

export async function main(args: string[]): Promise<void> {
  const n = Number(option(args, "n", "64"));
  const steps = Number(option(args, "steps", "25"));
  const repeats = Number(option(args, "repeats", "2"));
  const withThreads = !args.includes("--no-threads");
  const redisThere = redisServerAvailable;
  const withQueue = !args.includes("--no-queue") && redisThere;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-bench-scale-"));
  const images = DEFAULT_AUDIT_PROMPTS.length * n;
  const audit = (seed: number) => [
    "audit",
    "-n",
    String(n),
    "--steps",
    String(steps),
    "--seed",
    String(seed),
    "--intersections",
    "sex,race",
    "--backend",
    "wasm",
    "-o",
    path.join(dir, "report.html"),
  ];
  console.log(
    `Scale-out, cxr-mini: ${DEFAULT_AUDIT_PROMPTS.length} prompts × ${n} images = ${images} images, DDIM ${steps} steps, sex × race, 2000 resamples; wasm, one thread per process`,
  );
  console.log(
    `machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${load()}`,
  );

  // A 4-image, 1-step audit: what start-up costs with one and with two worker processes.
  const startup = (workers: string) =>
    fairdiff([
      "audit",
      "-n",
      "2",
      "--steps",
      "1",
      "--workers",
      workers,
      "-o",
      path.join(dir, "s.html"),
    ]);
  const startup1 = startup("1");
  const startup2 = startup("2");
  console.log(
    `start-up (a 4-image, 1-step audit, wall): --workers 1 ${startup1.toFixed(1)} s, --workers 2 ${startup2.toFixed(1)} s`,
  );

  let redis: LocalRedis | undefined;
  const modes: Mode[] = [
    { name: "--workers 1", run: async (a) => fairdiff([...a, "--workers", "1"]) },
    { name: "--workers 2", run: async (a) => fairdiff([...a, "--workers", "2"]) },
  ];
  if (withThreads) {
    modes.push({
      name: "--workers 2 --threads",
      run: async (a) => fairdiff([...a, "--workers", "2", "--threads"]),
    });
  }
  if (withQueue) {
    redis = await startRedis();
    modes.push({
      name: "--queue, 2 workers",
      run: async (a, repeat) => {
        // Cold workers on a fresh queue each time: their start-up counts, as the local children's.
        const queueName = `bench-${process.pid}-${repeat}`;
        const workers = [startWorker(redis!.url, queueName), startWorker(redis!.url, queueName)];
        try {
          return fairdiff([...a, "--queue", redis!.url, "--queue-name", queueName]);
        } finally {
          await Promise.all(workers.map(stop));
        }
      },
    });
  } else {
    console.log(
      `(queue left out: ${redisThere ? "--no-queue" : "no redis-server on this machine"})`,
    );
  }

  const times = new Map<string, number[]>(modes.map((m) => [m.name, []]));
  try {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const mode of modes) {
        const before = load();
        // Each repeat its own seed: a queue would otherwise hand back the stored result.
        const seconds = await mode.run(audit(100 + repeat), repeat);
        times.get(mode.name)!.push(seconds);
        console.log(
          `  repeat ${repeat + 1} ${mode.name.padEnd(22)} ${seconds.toFixed(1).padStart(6)} s  ${(images / seconds).toFixed(3)} images/s   (load before ${before})`,
        );
      }
    }
  } finally {
    if (redis) await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const best = (name: string) => Math.min(...times.get(name)!);
  const one = best("--workers 1");
  console.log("best of the repeats (all repeats in brackets):");
  for (const mode of modes) {
    const t = best(mode.name);
    console.log(
      `  ${mode.name.padEnd(22)} ${(images / t).toFixed(3)} images/s  ${(one / t).toFixed(2)}× one worker  [${spread(times.get(mode.name)!)} s]`,
    );
  }
  console.log(`load average now ${load()}`);
}
