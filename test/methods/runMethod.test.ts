/**
 * `runMethod` on hand-made event streams: it returns the run's summary with the last evaluation
 * and the last state file, passes a method's own summary fields through, accepts a stream wrapped
 * by a caller's generator (no summary returned), and closes the run when `onEvent` throws.
 */
import type { MethodEvent } from "../../src/methods/methodEvents";
import type { MethodRunSummary } from "../../src/methods/methodRunLoop";
import { runMethod } from "../../src/methods/runMethod";

const TARGET = { sex: { Female: 0.5, Male: 0.5 } };

function step(n: number, total: number): MethodEvent {
  return {
    type: "step",
    method: "align",
    step: n,
    totalSteps: 2,
    losses: { total },
    target: TARGET,
    detail: {},
    biasEstimate: {},
    learningRate: 0.1,
    imagesPerSecond: 1,
    elapsedMs: 1,
  };
}

const evaluation = (n: number): MethodEvent => ({
  type: "evaluation",
  method: "align",
  step: n,
  attributes: [],
  elapsedMs: 0,
  evaluationShare: 0,
});

/** A method-like run: two steps, evaluations, a checkpoint, done; `closed` records a return(). */
async function* fakeRun(
  log: string[],
): AsyncGenerator<MethodEvent, MethodRunSummary & { extra: number }> {
  try {
    yield evaluation(0);
    yield step(1, 0.5);
    yield step(2, 0.25);
    yield evaluation(2);
    yield { type: "checkpoint", method: "align", step: 2, file: "run.state" };
    yield { type: "done", method: "align", steps: 2, elapsedMs: 3, aborted: false };
    return { stepsDone: 2, aborted: false, finalLoss: 0.25, extra: 7 };
  } finally {
    log.push("closed");
  }
}

test("returns the summary, the last evaluation and the state file; every event reaches onEvent", async () => {
  const seen: string[] = [];
  const result = await runMethod(fakeRun([]), { onEvent: (e) => void seen.push(e.type) });
  expect(result).toMatchObject({
    stepsDone: 2,
    aborted: false,
    finalLoss: 0.25,
    extra: 7,
    lastEvaluation: { type: "evaluation", step: 2 },
    stateFile: { file: "run.state", step: 2 },
  });
  expect(seen).toEqual(["evaluation", "step", "step", "evaluation", "checkpoint", "done"]);
});

test("a wrapped stream (no summary returned) is summarised from its events", async () => {
  async function* wrapped(events: AsyncIterable<MethodEvent>): AsyncGenerator<MethodEvent> {
    for await (const e of events) yield e;
  }
  const result = await runMethod(wrapped(fakeRun([])));
  expect(result).toMatchObject({ stepsDone: 2, aborted: false, finalLoss: 0.25 });
});

test("an onEvent that throws closes the run and passes the error on", async () => {
  const log: string[] = [];
  await expect(
    runMethod(fakeRun(log), {
      onEvent: (e) => {
        if (e.type === "step") throw new Error("dashboard gone");
      },
    }),
  ).rejects.toThrow("dashboard gone");
  expect(log).toEqual(["closed"]);
});

test("a stream without a done event is an error", async () => {
  async function* cut(): AsyncGenerator<MethodEvent> {
    yield step(1, 0.5);
  }
  await expect(runMethod(cut())).rejects.toThrow(/ended without a done event/);
});
