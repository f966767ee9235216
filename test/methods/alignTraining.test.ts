/**
 * The distributional alignment loop on a tiny model and a tiny (untrained) classifier: events,
 * per-step targets read from the live getter, several attributes and intersections, the learnt
 * LoRA merged into the model at the end, and bad targets rejected naming the bad value before any
 * work. (Leaks, determinism and resume: alignResume.test.ts.)
 */
import { weightsSync } from "../helpers/weights";
import * as tf from "@tensorflow/tfjs-core";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import type { MethodStepEvent, TargetDistributions } from "../../src/methods/methodEvents";
import { alignmentOptions, alignmentTestBed, stepEvents, textModel } from "./fixtures";

const bed = alignmentTestBed();

interface AttributeDetail {
  attribute: string;
  targets: number[];
}

test("emits step and done events; the tuned weights end up merged into the model", async () => {
  const model = textModel();
  const before = weightsSync(model.textEncoder);
  const events = await bed.collect(model, alignmentOptions());
  const stepped = stepEvents(events);
  expect(stepped.map((e) => e.step)).toEqual([1, 2]);
  for (const e of stepped) {
    expect(e.method).toBe("align");
    expect(Number.isFinite(e.losses.total)).toBe(true);
    expect(e.losses.total).toBeCloseTo(
      e.losses.fairness + e.losses.semantic + e.losses.preservation,
      4,
    );
    expect(e.target).toEqual({ sex: { Female: 0.5, Male: 0.5 } });
    expect(e.biasEstimate.sex).toBeGreaterThanOrEqual(0);
    const detail = e.detail.attributes as AttributeDetail[];
    expect(detail[0].targets).toHaveLength(4);
  }
  expect(events[events.length - 1]).toMatchObject({ type: "done", steps: 2, aborted: false });
  // Plain model again (LoRA merged and removed), with changed text-encoder weights.
  const after = weightsSync(model.textEncoder);
  expect(Object.keys(after)).toEqual(Object.keys(before));
  const changed = Object.keys(before).some((name) =>
    after[name].some((v, i) => Math.abs(v - before[name][i]) > 1e-7),
  );
  expect(changed).toBe(true);
  model.dispose();
});

test("a target changed mid-run is used from the next step", async () => {
  const model = textModel();
  let target: TargetDistributions = { sex: { Female: 1, Male: 0 } };
  const seen: MethodStepEvent[] = [];
  for await (const event of distributionalAlignment(
    model,
    bed.classifier,
    alignmentOptions({ steps: 3, target: () => target }),
  )) {
    if (event.type !== "step") continue;
    seen.push(event);
    if (event.step === 1) target = { sex: { Female: 0, Male: 1 } };
  }
  const targetsAt = (e: MethodStepEvent) => (e.detail.attributes as AttributeDetail[])[0].targets;
  // All-Female target: every image is sent to group 0; all-Male: to group 1.
  expect(targetsAt(seen[0])).toEqual([0, 0, 0, 0]);
  expect(seen[1].target).toEqual({ sex: { Female: 0, Male: 1 } });
  expect(targetsAt(seen[1])).toEqual([1, 1, 1, 1]);
  expect(targetsAt(seen[2])).toEqual([1, 1, 1, 1]);
  model.dispose();
});

test("several attributes and an intersection: one target set per attribute", async () => {
  const model = textModel();
  const events = stepEvents(
    await bed.collect(
      model,
      alignmentOptions({
        steps: 1,
        trainable: "unet-lora",
        target: () => ({
          race: { Asian: 1 / 3, Black: 1 / 3, White: 1 / 3 },
          "sex×race": {
            "Female×Asian": 0.5,
            "Female×Black": 0,
            "Female×White": 0,
            "Male×Asian": 0,
            "Male×Black": 0,
            "Male×White": 0.5,
          },
        }),
        targetDraws: 16,
      }),
    ),
  );
  const detail = events[0].detail.attributes as AttributeDetail[];
  expect(detail.map((d) => d.attribute)).toEqual(["race", "sex×race"]);
  // Only Female×Asian (0) and Male×White (5) are ever drawn.
  for (const t of detail[1].targets) expect([-1, 0, 5]).toContain(t);
  expect(Object.keys(events[0].biasEstimate)).toEqual(["race", "sex×race"]);
  model.dispose();
});

test("soft prompt tokens are trained and stay attached", async () => {
  // Same seed, same initial tokens: one step more must have moved them.
  const embeddingsAfter = async (stepCount: number) => {
    const model = textModel();
    const events = stepEvents(
      await bed.collect(model, alignmentOptions({ steps: stepCount, trainable: "soft-prompt" })),
    );
    expect(events).toHaveLength(stepCount);
    const soft = model.textEncoder.softPrompt;
    expect(soft?.tokens).toBe(5);
    const values = Array.from(soft?.embeddings.dataSync() ?? []);
    model.dispose();
    return values;
  };
  const one = await embeddingsAfter(1);
  const two = await embeddingsAfter(2);
  expect(one).toHaveLength(5 * 8);
  expect(Math.max(...one.map((v, i) => Math.abs(v - two[i])))).toBeGreaterThan(1e-3);
});

test("bad targets and options fail before any work, naming the value", async () => {
  const model = textModel();
  const tensorsBefore = tf.memory().numTensors;
  const bad: [TargetDistributions, RegExp][] = [
    [{ sex: { Female: 0.7, Male: 0.7 } }, /"sex" sums to 1.4/],
    [{ sex: { Female: 0.5, Man: 0.5 } }, /unknown group "Man"/],
    [{ gender: { Female: 0.5, Male: 0.5 } }, /attribute "gender"/],
    [{ "Pleural Effusion": { absent: 0.5, present: 0.5 } }, /"Pleural Effusion"/],
    [{}, /names no attribute/],
  ];
  for (const [target, message] of bad) {
    await expect(bed.collect(model, alignmentOptions({ target: () => target }))).rejects.toThrow(
      message,
    );
  }
  await expect(
    bed.collect(model, alignmentOptions({ gradient: "approx" as never })),
  ).rejects.toThrow(/gradient must be "adjusted" or "exact", got "approx"/);
  await expect(bed.collect(model, alignmentOptions({ batchSize: 1 }))).rejects.toThrow(
    /batchSize must be an integer ≥ 2, got 1/,
  );
  await expect(bed.collect(model, alignmentOptions({ gradientSteps: 5 }))).rejects.toThrow(
    /gradientSteps must be ≤ sampler.steps \(3\), got 5/,
  );
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  // A target that turns bad mid-run stops the run with the same kind of error.
  let target: TargetDistributions = { sex: { Female: 0.5, Male: 0.5 } };
  const run = async () => {
    for await (const event of distributionalAlignment(
      model,
      bed.classifier,
      alignmentOptions({ steps: 3, target: () => target }),
    )) {
      if (event.type === "step") target = { sex: { Female: 0.5, Male: 0.6 } };
    }
  };
  await expect(run()).rejects.toThrow(/sums to 1.1/);
  // The failed run leaves the model as it was given (no adapters left attached).
  const fresh = textModel();
  expect(model.textEncoder.parameters().length).toBe(fresh.textEncoder.parameters().length);
  fresh.dispose();
  model.dispose();
});
