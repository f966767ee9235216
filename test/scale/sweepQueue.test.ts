/**
 * `fairdiff sweep` through a real queue: two `fairdiff worker`s of the built CLI take a tiny sweep
 * (one seed × two learning rates, one step each) from a Redis on localhost; each run leaves its
 * tuned model and a summary in the shared folder. Run again without a queue, the sweep redoes
 * nothing: the summaries come back as written.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import {
  parseLearningRates,
  parseSeeds,
  sweepCommand,
  sweepRuns,
  type SweepCommandOptions,
} from "../../src/cli/commands/sweep";
import { runSweepJob, sweepRunName } from "../../src/scale/sweepRun";
import { BUILT_JOB_CHILD, CliWorker } from "../helpers/cliWorker";
import { redisServerAvailable, startRedis } from "../helpers/redisServer";
import { testWhen } from "../helpers/requirements";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-sweep-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const quiet = {
  text: "",
  isTTY: false,
  write() {
    return true;
  },
} as unknown as NodeJS.WriteStream;

test("seeds, rates and settings are parsed and checked before anything runs", () => {
  expect(parseSeeds("0..3")).toEqual([0, 1, 2, 3]);
  expect(parseSeeds("0..2, 7")).toEqual([0, 1, 2, 7]);
  expect(() => parseSeeds("3..1")).toThrow(/--seeds "3\.\.1": the range ends before it starts/);
  expect(() => parseSeeds("0,x")).toThrow(/--seeds must be an integer ≥ 0 .*got "x"/);
  expect(() => parseSeeds("1,1")).toThrow(/names a seed twice/);
  expect(parseLearningRates("1e-3,3e-3")).toEqual([0.001, 0.003]);
  expect(() => parseLearningRates("0")).toThrow(/--lr must be a number > 0/);
  const base: SweepCommandOptions = { seeds: "0..1", lr: "1e-3,3e-3", outDir: dir };
  const runs = sweepRuns(base);
  expect(runs.map((r) => [r.seed, r.learningRate])).toEqual([
    [0, 0.001],
    [0, 0.003],
    [1, 0.001],
    [1, 0.003],
  ]);
  expect(() => sweepRuns({ ...base, method: "magic" })).toThrow(
    /--method must be "align", "subgroup" or "perturb", got "magic"/,
  );
  expect(() => sweepRuns({ ...base, outDir: undefined })).toThrow(/--out-dir is required/);
  expect(() => sweepRuns({ ...base, target: ["sex=Female:0.5"] })).not.toThrow();
  expect(() => sweepRuns({ ...base, target: ["sex"] })).toThrow(/--target "sex" must look like/);
  expect(() => sweepRuns({ ...base, seeds: "0..99999" })).toThrow(/more than 10000 seeds/);
});

test("a summary written by a run with other settings is never overwritten", async () => {
  const outDir = path.join(dir, "other");
  const [run] = sweepRuns({ seeds: "4", lr: "1e-3", outDir });
  fs.mkdirSync(outDir, { recursive: true });
  const summary = path.join(outDir, `${sweepRunName(run)}.json`);
  const foreign = JSON.stringify({ kind: "fairdiff.sweep-run", settingsSha256: "0".repeat(64) });
  fs.writeFileSync(summary, foreign);
  await expect(runSweepJob(run)).rejects.toThrow(
    /align-seed4-lr0\.001\.json holds a run with other settings; give the sweep another --out-dir/,
  );
  expect(fs.readFileSync(summary, "utf8")).toBe(foreign);
});

const available = redisServerAvailable && fs.existsSync(BUILT_JOB_CHILD);
const missing = redisServerAvailable
  ? "the built CLI with the scale-out code (npm run build)"
  : "redis-server (Debian: apt-get install redis-server)";

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

testWhen(available, missing)(
  "two workers run a 2-job sweep from the queue; a second sweep redoes nothing",
  async () => {
    const redis = await startRedis();
    const workers = [new CliWorker(["--queue", redis.url]), new CliWorker(["--queue", redis.url])];
    const outDir = path.join(dir, "runs");
    const options: SweepCommandOptions = {
      method: "align",
      seeds: "0",
      lr: "1e-3,3e-3",
      steps: "1",
      batchSize: "2",
      evalImages: "2",
      evalSteps: "2",
      samplingSteps: "2",
      outDir,
      backend: "wasm",
      progress: quiet,
      log: () => {},
    };
    try {
      const { summaries } = await sweepCommand({ ...options, queue: redis.url });
      expect(summaries.map((s) => s.name)).toEqual(["align-seed0-lr0.001", "align-seed0-lr0.003"]);
      for (const summary of summaries) {
        expect(summary.last?.step).toBe(1);
        expect(summary.first?.step).toBe(0);
        const model = path.join(outDir, summary.modelFile);
        const loaded = LatentDiffusionModel.load(model);
        expect(loaded.info.finetune).toMatchObject({
          method: "align",
          learningRate: summary.learningRate,
          complete: true,
        });
        loaded.dispose();
        expect(
          JSON.parse(fs.readFileSync(path.join(outDir, `${summary.name}.json`), "utf8")),
        ).toEqual(JSON.parse(JSON.stringify(summary)));
        // Nothing to resume once the model is written.
        expect(fs.existsSync(path.join(outDir, `${summary.name}.state.fdckpt`))).toBe(false);
      }
      // Two learning rates, two different tuned models.
      expect(sha256(path.join(outDir, summaries[0].modelFile))).not.toBe(
        sha256(path.join(outDir, summaries[1].modelFile)),
      );
      const taken = workers.map((w) => (w.log.match(/took sweep run/g) ?? []).length);
      expect(taken[0] + taken[1]).toBe(2);

      // Again, here and without the queue: the written summaries, unchanged, nothing trained.
      const { summaries: again } = await sweepCommand(options);
      expect(again).toEqual(summaries);
    } finally {
      await Promise.all(workers.map((w) => w.stop("SIGTERM")));
      await redis.stop();
    }
  },
  120000,
);
