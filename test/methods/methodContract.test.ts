/**
 * The contract every mitigation method keeps (as diffusers' PipelineTesterMixin does for its
 * pipelines), run over the three methods on tiny models: the same seed gives the same losses and
 * weights; a run stopped and resumed from its state file ends exactly where an uninterrupted one
 * does; an abort at any phase ends the run with done{aborted:true}, no error, and keeps what was
 * learnt (as does a caller leaving the loop); a target moved mid-run (through the getter) is the next step's target, and a plain
 * distribution is accepted; tensors do not leak across steps or after the run; a bad common
 * option is refused naming the option and the value, before any work. Runs are driven through
 * `runMethod`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { QualityAudit } from "../../src/audit/qualityTypes";
import { useBackend } from "../../src/backend";
import type { SubgroupClassifier } from "../../src/classifiers/subgroupClassifier";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { defineAttribute } from "../../src/data/subgroups";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import { fairBayesianPerturbation } from "../../src/methods/fairBayesianPerturbation";
import { labelledExamples } from "../../src/methods/labelledExamples";
import type {
  MethodEvent,
  MethodName,
  MethodStepEvent,
  TargetDistributions,
} from "../../src/methods/methodEvents";
import { MethodOptionError } from "../../src/methods/methodOptionError";
import type { MethodOptions } from "../../src/methods/methodOptions";
import type { MethodRunSummary } from "../../src/methods/methodRunLoop";
import type { MethodEvaluationOptions } from "../../src/methods/periodicEvaluation";
import { runMethod, type MethodRunResult } from "../../src/methods/runMethod";
import { subgroupAlignedTuning } from "../../src/methods/subgroupAlignedTuning";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { weightsSync } from "../helpers/weights";
import { PROMPTS } from "../models/tinyModels";
import { tinyModel } from "../pipeline/tinyModel";
import { alignmentClassifier, expectSameWeights, textModel } from "./fixtures";

/** The options the contract varies; everything else is each method's small test setting. */
type ContractOptions = Partial<MethodOptions> & { steps?: number; target?: unknown };

interface MethodUnderTest {
  method: MethodName;
  /** A fresh model, the same weights on every call. */
  model(): LatentDiffusionModel;
  run(
    model: LatentDiffusionModel,
    options: ContractOptions,
  ): AsyncGenerator<MethodEvent, MethodRunSummary>;
}

const SEX = ["Female", "Male"];
const BALANCED: TargetDistributions = { sex: { Female: 0.5, Male: 0.5 } };
const MOVED: TargetDistributions = { sex: { Female: 0.25, Male: 0.75 } };

let classifier: SubgroupClassifier;
let dir: string;
beforeAll(async () => {
  await useBackend("wasm");
  classifier = alignmentClassifier();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-contract-"));
});
afterAll(() => {
  classifier.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cohort = createSyntheticCohort({ cohort: "cxr", size: 8, seed: 1, imageSize: 16 });
const examples = labelledExamples(cohort.records.map((_, i) => cohort.sampleAt(i)));

const shared = { steps: 3, seed: 7, target: () => BALANCED };
/** What Methods 1 and 2 (prompted, sampling on-policy) take alike. */
const prompted = {
  ...shared,
  prompts: [PROMPTS[0]],
  batchSize: 2,
  learningRate: 1e-2,
  sampler: { steps: 2 },
};

const METHODS: MethodUnderTest[] = [
  {
    method: "align",
    model: textModel,
    run: (model, options) =>
      distributionalAlignment(model, classifier, { ...prompted, ...options } as never),
  },
  {
    method: "subgroup",
    model: textModel,
    run: (model, options) =>
      subgroupAlignedTuning(model, classifier, { ...prompted, ...options } as never),
  },
  {
    method: "perturb",
    model: () => tinyModel(examples, 3),
    run: (model, options) =>
      fairBayesianPerturbation(model, {
        ...shared,
        examples,
        attributes: [defineAttribute("sex", SEX)],
        batchSize: 4,
        every: 2,
        learningRate: 1e-3,
        classifier,
        ...options,
      } as never),
  },
];

/** Every trained network's weights (LoRA is merged in at the end of a run). */
function weightsOf(model: LatentDiffusionModel): Record<string, Float32Array> {
  const prefixed = (prefix: string, weights: Record<string, Float32Array>) =>
    Object.fromEntries(Object.entries(weights).map(([k, v]) => [`${prefix}.${k}`, v]));
  return {
    ...prefixed("unet", weightsSync(model.unet)),
    ...prefixed("text", weightsSync(model.textEncoder)),
  };
}

function differs(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  return Object.keys(a).some((k) => a[k].some((v, i) => v !== b[k][i]));
}

/** Runs to the end, recording step events; `onEvent` may abort or move the target. */
async function drive(
  m: MethodUnderTest,
  model: LatentDiffusionModel,
  options: ContractOptions,
  onEvent: (event: MethodEvent) => void = () => {},
): Promise<{ result: MethodRunResult; steps: MethodStepEvent[]; events: MethodEvent[] }> {
  const events: MethodEvent[] = [];
  const result = await runMethod(m.run(model, options), {
    onEvent: (event) => {
      events.push(event);
      onEvent(event);
    },
  });
  const steps = events.filter((e): e is MethodStepEvent => e.type === "step");
  return { result, steps, events };
}

/** A small evaluation every step; `abortAt` aborts inside the evaluation after that many steps. */
function evaluation(controller: AbortController, abortAt: number): MethodEvaluationOptions {
  let evaluated = 0;
  return {
    every: 1,
    prompts: [PROMPTS[0]],
    imagesPerPrompt: 2,
    seed: 3,
    attributes: ["sex"],
    generation: { steps: 2 },
    // Runs inside each evaluation, after its images: where the abort lands. Sampling notices
    // an abort and throws, as generateImages does. Evaluations before it report a placeholder
    // (this suite tests stopping, not FID).
    quality: async () => {
      if (evaluated++ === abortAt) {
        controller.abort();
        throw new Error("generation aborted");
      }
      return { elapsedMs: 0 } as unknown as QualityAudit;
    },
  };
}

describe.each(METHODS)("$method keeps the method contract", (m) => {
  test("the same seed gives the same losses and weights; another seed other losses", async () => {
    const runOnce = async (seed: number) => {
      const model = m.model();
      const { steps, result } = await drive(m, model, { seed });
      const weights = weightsOf(model);
      model.dispose();
      expect(result).toMatchObject({ stepsDone: 3, aborted: false });
      expect(result.finalLoss).toBe(steps.at(-1)?.losses.total);
      return { losses: steps.map((e) => e.losses.total), weights };
    };
    const first = await runOnce(7);
    const again = await runOnce(7);
    expect(again.losses).toEqual(first.losses);
    expectSameWeights(first.weights, again.weights);
    expect((await runOnce(8)).losses).not.toEqual(first.losses);
  });

  test("stopped after step 1 and resumed from the state file = an uninterrupted run", async () => {
    const straightModel = m.model();
    await drive(m, straightModel, {});
    const straight = weightsOf(straightModel);
    straightModel.dispose();

    const stateFile = path.join(dir, `${m.method}-resume.state`);
    const controller = new AbortController();
    const firstModel = m.model();
    const first = await drive(m, firstModel, { stateFile, signal: controller.signal }, (e) => {
      if (e.type === "step" && e.step === 1) controller.abort();
    });
    firstModel.dispose();
    expect(first.result).toMatchObject({ stepsDone: 1, aborted: true });
    expect(first.result.stateFile).toEqual({ file: stateFile, step: 1 });

    const resumedModel = m.model();
    const resumed = await drive(m, resumedModel, { stateFile });
    expect(resumed.steps.map((e) => e.step)).toEqual([2, 3]);
    expect(resumed.result).toMatchObject({ stepsDone: 3, aborted: false });
    expectSameWeights(straight, weightsOf(resumedModel));
    resumedModel.dispose();
  });

  test.each([
    ["before the first step", "signal", 0],
    ["during the step-0 evaluation", "evaluation", 0],
    ["between steps", "step", 1],
    ["during a mid-run evaluation", "evaluation", 1],
  ] as const)(
    "an abort %s ends the run with done{aborted: true} and keeps the weights",
    async (_phase, where, stepsDone) => {
      const controller = new AbortController();
      if (where === "signal") controller.abort();
      const stateFile = path.join(dir, `${m.method}-abort-${where}-${stepsDone}.state`);
      const model = m.model();
      const initial = weightsOf(model);
      const { result, events } = await drive(
        m,
        model,
        {
          stateFile,
          signal: controller.signal,
          ...(where === "evaluation" ? { evaluation: evaluation(controller, stepsDone) } : {}),
        },
        (e) => {
          if (where === "step" && e.type === "step" && e.step === stepsDone) controller.abort();
        },
      );
      expect(events.at(-1)).toEqual(
        expect.objectContaining({ type: "done", aborted: true, steps: stepsDone }),
      );
      expect(result).toMatchObject({ stepsDone, aborted: true });
      const weights = weightsOf(model);
      // Nothing of the run is left attached: LoRA is merged in.
      expect(Object.keys(weights).filter((k) => k.includes("lora"))).toEqual([]);
      expect(differs(initial, weights)).toBe(stepsDone > 0);
      // What was learnt is saved too.
      expect(fs.existsSync(stateFile)).toBe(stepsDone > 0);
      model.dispose();
    },
  );

  test("a caller leaving the loop early closes the run keeping what was learnt", async () => {
    const model = m.model();
    const initial = weightsOf(model);
    for await (const event of m.run(model, {})) if (event.type === "step") break;
    const weights = weightsOf(model);
    expect(Object.keys(weights).filter((k) => k.includes("lora"))).toEqual([]);
    expect(differs(initial, weights)).toBe(true);
    model.dispose();
  });

  test("a target moved through the getter is the next step's; a plain distribution is accepted", async () => {
    let target = BALANCED;
    const model = m.model();
    const { steps } = await drive(m, model, { target: () => target }, (e) => {
      if (e.type === "step" && e.step === 1) target = MOVED;
    });
    expect(steps.map((e) => e.target)).toEqual([BALANCED, MOVED, MOVED]);
    const plain = await drive(m, model, { steps: 1, target: MOVED });
    expect(plain.steps[0].target).toEqual(MOVED);
    model.dispose();
  });

  test("no tensor leaks across steps, nor after the run", async () => {
    const model = m.model();
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await drive(m, model, { steps: 4 }, (e) => {
      if (e.type === "step") counts.push(tf.memory().numTensors);
    });
    expect(counts).toHaveLength(4);
    expect(counts).toEqual(counts.map(() => counts[0]));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test.each([
    ["steps", 0, /steps must be an integer ≥ 1, got 0/],
    ["batchSize", -1, /batchSize must be an integer ≥ 2, got -1/],
    ["learningRate", NaN, /learningRate must be > 0, got NaN/],
    [
      "target",
      42,
      /target must be attribute → group → probability, or a function returning it, got 42/,
    ],
  ] as const)(
    "%s = %p is refused naming the option and value, before any work",
    async (option, value, message) => {
      const model = m.model();
      const initial = weightsOf(model);
      const tensors = tf.memory().numTensors;
      const stateFile = path.join(dir, `${m.method}-bad-${option}.state`);
      const error = await runMethod(m.run(model, { stateFile, [option]: value })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MethodOptionError);
      expect(error).toMatchObject({ option, value });
      expect((error as Error).message).toMatch(message);
      expect(tf.memory().numTensors).toBe(tensors);
      expectSameWeights(initial, weightsOf(model));
      expect(fs.existsSync(stateFile)).toBe(false);
      model.dispose();
    },
  );
});
