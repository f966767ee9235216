/**
 * An audit's shards on this machine: `fairdiff audit --workers 2` (child processes, or worker
 * threads) gives the report `--workers 1` gives; the built CLI's `--shard i/n --part-out` and
 * `audit merge` give it too; and the scale-out flags fail early, naming the flag and the value.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AuditReport } from "../../src/audit";
import {
  auditCommand,
  auditShardCommand,
  type AuditCommandOptions,
} from "../../src/cli/commands/audit";
import { workerSettings } from "../../src/cli/commands/worker";
import { BUILT_CLI, BUILT_JOB_CHILD } from "../helpers/cliWorker";
import { testWhen } from "../helpers/requirements";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-local-shards-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const quiet = {
  isTTY: false,
  write() {
    return true;
  },
} as unknown as NodeJS.WriteStream;

function figures(report: AuditReport): unknown {
  return JSON.parse(
    JSON.stringify(report.toJSON(), (key, value: unknown) =>
      key === "elapsedMs" || key === "createdAt" ? undefined : value,
    ),
  );
}

const common: AuditCommandOptions = {
  n: "34",
  steps: "2",
  seed: "11",
  resamples: "100",
  backend: "wasm",
  intersections: "sex,race",
  progress: quiet,
  log: () => {},
};

testWhen(fs.existsSync(BUILT_JOB_CHILD), "the built scale-out code (npm run build)")(
  "--workers 2 (processes or threads) and --shard + merge give the --workers 1 report",
  async () => {
    const { report: one } = await auditCommand({ ...common, out: path.join(dir, "one.html") });
    const { report: two } = await auditCommand({
      ...common,
      workers: "2",
      out: path.join(dir, "two.html"),
    });
    expect(figures(two)).toEqual(figures(one));
    const { report: threads } = await auditCommand({
      ...common,
      workers: "2",
      threads: true,
      out: path.join(dir, "threads.html"),
    });
    expect(figures(threads)).toEqual(figures(one));

    // The built command line: two shards into part files, merged.
    const args = ["-n", "34", "--steps", "2", "--seed", "11", "--resamples", "100"];
    const flags = [...args, "--backend", "wasm", "--intersections", "sex,race"];
    for (const shard of ["1/2", "2/2"]) {
      execFileSync(
        process.execPath,
        [
          BUILT_CLI,
          "audit",
          ...flags,
          "--shard",
          shard,
          "--part-out",
          path.join(dir, `p${shard[0]}.json`),
        ],
        { stdio: "pipe" },
      );
    }
    const merged = path.join(dir, "merged.json");
    const printed = execFileSync(
      process.execPath,
      [
        BUILT_CLI,
        "audit",
        "merge",
        path.join(dir, "p2.json"),
        path.join(dir, "p1.json"),
        "-o",
        path.join(dir, "merged.html"),
        "--json",
        merged,
      ],
      { encoding: "utf8" },
    );
    expect(printed).toContain(`wrote ${merged}`);
    expect(figures(AuditReport.load(merged))).toEqual(figures(one));
  },
  180000,
);

test("scale-out flags are checked before anything loads, naming the flag", async () => {
  const run = (extra: AuditCommandOptions) => auditCommand({ ...common, ...extra });
  await expect(run({ workers: "0" })).rejects.toThrow(
    /--workers must be an integer ≥ 1 and ≤ 256 \(one process per core\), got "0"/,
  );
  await expect(run({ queue: "http://host:6379" })).rejects.toThrow(
    /--queue must be a Redis URL like redis:\/\/host:6379, got "http:\/\/host:6379"/,
  );
  await expect(run({ queue: "redis://127.0.0.1:1", workers: "2" })).rejects.toThrow(
    /--workers and --queue exclude each other/,
  );
  await expect(run({ shards: "4" })).rejects.toThrow(/--shards only applies with --queue/);
  await expect(run({ results: dir })).rejects.toThrow(/--results only applies with --queue/);
  await expect(run({ queue: "redis://127.0.0.1:1", shards: "0" })).rejects.toThrow(
    /--shards must be an integer ≥ 1/,
  );
  await expect(
    run({ queue: "redis://127.0.0.1:1", out: path.join(dir, "never.html") }),
  ).rejects.toThrow(/--queue redis:\/\/127\.0\.0\.1:1: Redis does not answer/);
  expect(fs.existsSync(path.join(dir, "never.html"))).toBe(false);
  await expect(auditShardCommand({ ...common, shard: "1/2" })).rejects.toThrow(
    /--shard needs --part-out <file>/,
  );
  await expect(auditShardCommand({ ...common, shard: "3/2", partOut: "x.json" })).rejects.toThrow(
    /--shard "3\/2": the shard index must be an integer in 1 … 2, got 3/,
  );
  await expect(
    auditShardCommand({ ...common, shard: "1/2", partOut: "x.json", out: "r.html" }),
  ).rejects.toThrow(/--out does not apply with --shard/);
  expect(() => workerSettings({})).toThrow(/--queue <redis-url> is required/);
  expect(() => workerSettings({ queue: "redis://h:6379", concurrency: "0" })).toThrow(
    /--concurrency must be an integer ≥ 1/,
  );
  expect(() => workerSettings({ queue: "redis://h:6379", lockDuration: "10" })).toThrow(
    /--lock-duration must be an integer ≥ 1,000/,
  );
  expect(workerSettings({ queue: "redis://h:6379/2" })).toMatchObject({
    url: "redis://h:6379/2",
    concurrency: 1,
    lockDuration: 30000,
    kind: "process",
  });
}, 60000);
