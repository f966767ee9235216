/**
 * Issue #23 through a real queue: a Redis on localhost (Debian's redis-server, started here), two
 * `fairdiff worker` processes of the built CLI, and `fairdiff audit --queue` enqueuing 3 shards.
 * One worker is killed (SIGKILL) as soon as it takes a shard: its lock runs out, the stalled-job
 * check puts the shard back in the queue, the other worker computes it, and the merged report
 * equals the same audit run whole in one process. Asked again, the audit is collected from the
 * queue without a single shard being computed twice.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AuditReport } from "../../src/audit";
import { auditCommand, type AuditCommandOptions } from "../../src/cli/commands/audit";
import { BUILT_JOB_CHILD, CliWorker } from "../helpers/cliWorker";
import { redisServerAvailable, startRedis, type TestRedis } from "../helpers/redisServer";
import { testWhen } from "../helpers/requirements";
import { textSink } from "../helpers/textSink";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-queue-audit-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The report's figures: its JSON less creation time and the timing fields. */
function figures(report: AuditReport): unknown {
  return JSON.parse(
    JSON.stringify(report.toJSON(), (key, value: unknown) =>
      key === "elapsedMs" || key === "createdAt" ? undefined : value,
    ),
  );
}

const available = redisServerAvailable && fs.existsSync(BUILT_JOB_CHILD);
const missing = redisServerAvailable
  ? "the built CLI with the scale-out code (npm run build)"
  : "redis-server (Debian: apt-get install redis-server)";

testWhen(available, missing)(
  "two queue workers, one killed mid-shard, complete an audit equal to the unsharded one",
  async () => {
    const redis: TestRedis = await startRedis();
    const workerArgs = [
      "--queue",
      redis.url,
      // Short locks: a dead worker's shard is back in the queue within ~2 s.
      "--lock-duration",
      "2000",
      "--stalled-interval",
      "500",
    ];
    const workers = [new CliWorker(workerArgs), new CliWorker(workerArgs)];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/worker on redis:/)));
      const common: AuditCommandOptions = {
        n: "40",
        steps: "3",
        seed: "5",
        resamples: "100",
        backend: "wasm",
        intersections: "sex,race",
        target: ["sex=Female:0.4,Male:0.6"],
        log: () => {},
      };
      const progress = textSink();
      const queued = auditCommand({
        ...common,
        queue: redis.url,
        shards: "3",
        out: path.join(dir, "queued.html"),
        json: path.join(dir, "queued.json"),
        progress,
      });
      // Kill whichever worker takes a shard first, the moment it says so.
      const taken = await Promise.race(
        workers.map((w, k) => w.waitFor(/took audit \w+ shard (\d)\/3/).then((m) => ({ k, m }))),
      );
      await workers[taken.k].stop("SIGKILL");
      const killedShard = taken.m[1];
      const survivor = workers[1 - taken.k];
      const { report } = await queued;

      // The killed worker's shard went back to the queue and the survivor computed it.
      expect(progress.text).toMatch(
        new RegExp(`shard ${killedShard}/3: its worker stopped answering`),
      );
      // The worker logs "done" once BullMQ has recorded the result, so the coordinator may
      // see the shard complete a moment before the line reaches this process.
      await survivor.waitFor(new RegExp(`done audit \\w+ shard ${killedShard}/3`), 10000);
      for (const shard of ["1", "2", "3"]) {
        const done = [survivor.log, workers[taken.k].log].join("\n");
        expect(done).toMatch(new RegExp(`took audit \\w+ shard ${shard}/3`));
      }

      // The same audit, whole, in this process: equal figure for figure.
      const { report: whole } = await auditCommand({
        ...common,
        out: path.join(dir, "whole.html"),
        progress: textSink(),
      });
      expect(figures(report)).toEqual(figures(whole));
      expect(report.representation[0].n).toBe(40);

      // Asked again: collected from the queue, nothing computed again.
      const before = survivor.log.match(/took audit/g)!.length;
      const { report: again } = await auditCommand({
        ...common,
        queue: redis.url,
        shards: "3",
        out: path.join(dir, "again.html"),
        progress: textSink(),
      });
      expect(figures(again)).toEqual(figures(whole));
      expect(survivor.log.match(/took audit/g)!.length).toBe(before);

      // A clean stop: the worker exits 0 after SIGTERM.
      expect(await survivor.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    } finally {
      await Promise.all(workers.map((w) => w.stop("SIGKILL")));
      await redis.stop();
    }
  },
  120000,
);
