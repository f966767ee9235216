/**
 * Drives a method's events to the end and returns what the run came to, for callers that want a
 * promise rather than a loop: `const result = await runMethod(distributionalAlignment(…))`.
 * `onEvent` sees every event in order (a progress bar, a dashboard); if it throws, the run is
 * closed (the model keeps what it learnt, as after an abort) and the error is passed on.
 */
import type { MethodEvaluationEvent, MethodEvent } from "./methodEvents";
import type { MethodRunSummary } from "./methodRunLoop";

export interface MethodRunResult extends MethodRunSummary {
  /** The last evaluation of the run, if it evaluated. */
  lastEvaluation?: MethodEvaluationEvent;
  /** The state file last written and the step it holds, if the run wrote one. */
  stateFile?: { file: string; step: number };
}

export interface RunMethodOptions {
  onEvent?: (event: MethodEvent) => void | Promise<void>;
}

/**
 * Runs `events` to its done event. Any async iterable of method events will do (a method's
 * generator, or one wrapped by a caller's own generator); a method's own summary fields (e.g.
 * Method 1's `trainableParameters`) are passed through.
 */
export function runMethod<Summary extends MethodRunSummary>(
  events: AsyncGenerator<MethodEvent, Summary>,
  options?: RunMethodOptions,
): Promise<Summary & MethodRunResult>;
export function runMethod(
  events: AsyncIterable<MethodEvent>,
  options?: RunMethodOptions,
): Promise<MethodRunResult>;
export async function runMethod(
  events: AsyncIterable<MethodEvent>,
  options: RunMethodOptions = {},
): Promise<MethodRunResult> {
  const iterator = events[Symbol.asyncIterator]() as AsyncIterator<MethodEvent, unknown>;
  let finalLoss = Number.NaN;
  let done: Extract<MethodEvent, { type: "done" }> | undefined;
  let lastEvaluation: MethodEvaluationEvent | undefined;
  let stateFile: MethodRunResult["stateFile"];
  let returned: unknown;
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      returned = next.value;
      break;
    }
    const event = next.value;
    if (event.type === "step") finalLoss = event.losses.total;
    else if (event.type === "evaluation") lastEvaluation = event;
    else if (event.type === "checkpoint") stateFile = { file: event.file, step: event.step };
    else if (event.type === "done") done = event;
    try {
      await options.onEvent?.(event);
    } catch (error) {
      await iterator.return?.();
      throw error;
    }
  }
  const summary = typeof returned === "object" && returned !== null ? returned : {};
  if (!done && !("stepsDone" in summary)) {
    throw new Error("the method's events ended without a done event");
  }
  return {
    stepsDone: done?.steps ?? 0,
    aborted: done?.aborted ?? false,
    finalLoss,
    ...summary,
    ...(lastEvaluation ? { lastEvaluation } : {}),
    ...(stateFile ? { stateFile } : {}),
  };
}
