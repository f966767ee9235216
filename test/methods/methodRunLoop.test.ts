/**
 * The step loop the mitigation methods share, driven by a plain counter instead of a model: the
 * order of step, evaluation, checkpoint and done events in both evaluation placements, resuming
 * from an existing state file, and an abort that still saves the state.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MethodEvent, TargetDistributions } from "../../src/methods/methodEvents";
import {
  methodRunLoop,
  type MethodRun,
  type MethodRunOptions,
  type MethodRunSummary,
} from "../../src/methods/methodRunLoop";
import { EvaluationClock } from "../../src/methods/periodicEvaluation";

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-run-loop-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TARGET: TargetDistributions = { sex: { Female: 0.5, Male: 0.5 } };

/** A run whose step s has loss 10 − s; every call is logged as a short label. */
function countingRun(log: string[], overrides: Partial<MethodRun> = {}): MethodRun {
  return {
    clock: new EvaluationClock(),
    step: async (step) => {
      log.push(`train ${step}`);
      return {
        images: 4,
        losses: { total: 10 - step },
        target: TARGET,
        detail: {},
        biasEstimate: {},
        learningRate: 0.1,
      };
    },
    saveState: async (file, stepsDone) => {
      fs.writeFileSync(file, String(stepsDone));
      log.push(`save ${stepsDone}`);
    },
    restoreState: (file) => Number(fs.readFileSync(file, "utf8")),
    evaluate: async (_settings, stepsDone, stepTarget) => {
      log.push(`evaluate ${stepsDone}${stepTarget ? " with the step's target" : ""}`);
      return {
        type: "evaluation",
        method: "align",
        step: stepsDone,
        attributes: [],
        elapsedMs: 0,
        evaluationShare: 0,
      };
    },
    finish: () => log.push("finish"),
    beforeDone: (stepsDone) => log.push(`before done ${stepsDone}`),
    ...overrides,
  };
}

async function drive(
  options: MethodRunOptions,
  run: MethodRun,
  onEvent: (e: MethodEvent) => void = () => {},
): Promise<{ events: string[]; summary: MethodRunSummary }> {
  const loop = methodRunLoop("align", options, run);
  const events: string[] = [];
  for (;;) {
    const next = await loop.next();
    if (next.done) return { events, summary: next.value };
    const e = next.value;
    onEvent(e);
    events.push(`${e.type} ${e.type === "done" ? e.steps : e.step}`);
  }
}

const evaluation = { every: 2, prompts: ["p"], imagesPerPrompt: 2, seed: 1 };

test("default placement: evaluate, then checkpoint; the final model is evaluated after finish", async () => {
  const log: string[] = [];
  const stateFile = path.join(dir, "first.state");
  const { events, summary } = await drive(
    { steps: 3, stateFile, checkpointEvery: 2, evaluation },
    countingRun(log),
  );
  expect(events).toEqual([
    "evaluation 0",
    "step 1",
    "step 2",
    "evaluation 2",
    "checkpoint 2",
    "step 3",
    "checkpoint 3",
    "evaluation 3",
    "done 3",
  ]);
  expect(log.slice(-4)).toEqual(["save 3", "finish", "evaluate 3", "before done 3"]);
  expect(log).toContain("evaluate 2 with the step's target");
  expect(summary).toEqual({ stepsDone: 3, aborted: false, finalLoss: 8 });
});

test("evaluateAfterCheckpoint: checkpoint, then evaluate; the last step is evaluated as trained", async () => {
  const log: string[] = [];
  const stateFile = path.join(dir, "second.state");
  const { events } = await drive(
    { steps: 3, stateFile, checkpointEvery: 2, evaluation },
    countingRun(log, { evaluateAfterCheckpoint: true }),
  );
  expect(events).toEqual([
    "evaluation 0",
    "step 1",
    "step 2",
    "checkpoint 2",
    "evaluation 2",
    "step 3",
    "evaluation 3",
    "checkpoint 3",
    "done 3",
  ]);
  expect(log.slice(-4)).toEqual([
    "evaluate 3 with the step's target",
    "save 3",
    "finish",
    "before done 3",
  ]);
});

test("an existing state file resumes the run: no step-0 evaluation, only the steps left", async () => {
  const log: string[] = [];
  const stateFile = path.join(dir, "resume.state");
  fs.writeFileSync(stateFile, "2");
  const { events, summary } = await drive({ steps: 4, stateFile, evaluation }, countingRun(log));
  expect(events).toEqual(["step 3", "step 4", "checkpoint 4", "evaluation 4", "done 4"]);
  expect(log.filter((l) => l.startsWith("train"))).toEqual(["train 2", "train 3"]);
  expect(summary.finalLoss).toBe(7);
});

test("an abort stops after the step under way, saves the state and skips the final evaluation", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  const stateFile = path.join(dir, "abort.state");
  let imagesPerSecond = 0;
  const { events, summary } = await drive(
    { steps: 5, stateFile, signal: controller.signal, evaluation },
    countingRun(log),
    (e) => {
      if (e.type === "step") imagesPerSecond = e.imagesPerSecond;
      if (e.type === "step" && e.step === 1) controller.abort();
    },
  );
  expect(events).toEqual(["evaluation 0", "step 1", "checkpoint 1", "done 1"]);
  expect(summary).toEqual({ stepsDone: 1, aborted: true, finalLoss: 10 });
  expect(fs.readFileSync(stateFile, "utf8")).toBe("1");
  expect(imagesPerSecond).toBeGreaterThan(0);
});

test.each([
  ["before the first step", 0, [], "0 steps, nothing saved"],
  ["between steps", 2, ["step 1", "evaluation 1", "step 2", "checkpoint 2"], "state at step 2"],
])(
  "an abort that lands inside an evaluation (%s) ends the run like one between steps",
  async (_when, abortAt, expected) => {
    const log: string[] = [];
    const controller = new AbortController();
    const stateFile = path.join(dir, `abort-in-evaluation-${abortAt}.state`);
    const counting = countingRun(log);
    const run: MethodRun = {
      ...counting,
      // Sampling notices the abort and throws, as generateImages does.
      evaluate: async (settings, stepsDone, target) => {
        if (stepsDone === abortAt) {
          controller.abort();
          throw new Error("generation aborted");
        }
        return counting.evaluate(settings, stepsDone, target);
      },
    };
    const { events, summary } = await drive(
      { steps: 5, stateFile, signal: controller.signal, evaluation: { ...evaluation, every: 1 } },
      run,
    );
    const stepsDone = Number(abortAt);
    expect(events).toEqual([
      ...(abortAt === 0 ? [] : ["evaluation 0"]),
      ...expected,
      `done ${stepsDone}`,
    ]);
    expect(summary.aborted).toBe(true);
    expect(summary.stepsDone).toBe(stepsDone);
    expect(fs.existsSync(stateFile) ? fs.readFileSync(stateFile, "utf8") : "none").toBe(
      stepsDone === 0 ? "none" : String(stepsDone),
    );
  },
);
