/**
 * The distributional alignment loop on a tiny model and a tiny (untrained) classifier: no tensor
 * leaks across steps, same seed → same numbers, and a run resumed from its state file continues
 * exactly like an uninterrupted one.
 */
import { weightsSync } from "../helpers/weights";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import * as path from "node:path";
import type { MethodEvent } from "../../src/methods/methodEvents";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";
import {
  alignmentOptions,
  alignmentTestBed,
  expectSameWeights,
  stepEvents,
  textModel,
} from "./fixtures";

const bed = alignmentTestBed();

test("no tensor leaks across steps", async () => {
  const model = textModel();
  const run = distributionalAlignment(model, bed.classifier, alignmentOptions({ steps: 6 }));
  const nextStep = async () => {
    for (;;) {
      const { value, done } = await run.next();
      if (done || value.type === "step") return;
    }
  };
  await expectNoTensorLeak(nextStep, { warmup: 2, steps: 3 });
  await run.return(undefined as never);
  model.dispose();
}, 120000);

test("same seed → same numbers; a run resumed from its state file matches an uninterrupted one", async () => {
  const lossesOf = (events: MethodEvent[]) => stepEvents(events).map((e) => e.losses.total);
  const straightModel = textModel();
  const straight = await bed.collect(straightModel, alignmentOptions({ steps: 3 }));

  // Same seed, stopped after two steps: the same numbers so far, and a state file.
  const stateFile = path.join(bed.dir, "resume.fdckpt");
  const controller = new AbortController();
  const firstModel = textModel();
  const first: MethodEvent[] = [];
  for await (const event of distributionalAlignment(
    firstModel,
    bed.classifier,
    alignmentOptions({ steps: 3, stateFile, signal: controller.signal }),
  )) {
    first.push(event);
    if (event.type === "step" && event.step === 2) controller.abort();
  }
  expect(lossesOf(first)).toEqual(lossesOf(straight).slice(0, 2));
  expect(first[first.length - 1]).toMatchObject({ type: "done", steps: 2, aborted: true });
  expect(first.some((e) => e.type === "checkpoint" && e.file === stateFile)).toBe(true);
  firstModel.dispose();

  const resumedModel = textModel();
  const resumed = await bed.collect(resumedModel, alignmentOptions({ steps: 3, stateFile }));
  expect(stepEvents(resumed).map((e) => e.step)).toEqual([3]);
  expect(lossesOf(resumed)).toEqual(lossesOf(straight).slice(2));
  expectSameWeights(weightsSync(straightModel.textEncoder), weightsSync(resumedModel.textEncoder));
  // A state file from another run is refused, naming why.
  const otherModel = textModel();
  await expect(
    bed.collect(otherModel, alignmentOptions({ steps: 4, seed: 8, stateFile })),
  ).rejects.toThrow(
    /was written with other settings: steps 3 → 4; seed 7 → 8\. Re-run with --restart/,
  );
  straightModel.dispose();
  resumedModel.dispose();
  otherModel.dispose();
}, 180000);
