/**
 * The mitigation methods' state files are bound to the settings they were written with: a run
 * under other settings (target, prompts, learning rate, the model it starts from, …) is refused
 * with every difference named — a finished run included, which used to be "resumed" silently and
 * saved as a model claiming settings it never trained with —, `restart` starts over, and the same
 * settings again just finish.
 */
import * as path from "node:path";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { defineAttribute } from "../../src/data/subgroups";
import {
  fairBayesianPerturbation,
  type FairPerturbationOptions,
} from "../../src/methods/fairBayesianPerturbation";
import { labelledExamples } from "../../src/methods/labelledExamples";
import { subgroupAlignedTuning } from "../../src/methods/subgroupAlignedTuning";
import { weightsSync } from "../helpers/weights";
import { PROMPTS } from "../models/tinyModels";
import { tinyModel } from "../pipeline/tinyModel";
import {
  alignmentOptions,
  alignmentTestBed,
  collectEvents,
  expectSameWeights,
  stepEvents,
  textModel,
} from "./fixtures";

const bed = alignmentTestBed();
const ADVICE = "Re-run with --restart to start over, or pass another --state file.";

test("align: a finished run's state is refused under another target and prompt; restart starts over", async () => {
  const stateFile = path.join(bed.dir, "t.fdckpt.state.fdckpt");
  const finished = textModel();
  const first = await bed.collect(finished, alignmentOptions({ stateFile }));
  expect(stepEvents(first).map((e) => e.step)).toEqual([1, 2]);
  finished.dispose();

  // The repro: the same state file, another target and prompt.
  const other = alignmentOptions({
    prompts: [PROMPTS[1]],
    target: () => ({ sex: { Female: 0.9, Male: 0.1 } }),
  });
  const model = textModel();
  const untouched = weightsSync(model.textEncoder);
  await expect(bed.collect(model, { ...other, stateFile })).rejects.toThrow(
    `${stateFile} was written with other settings: ` +
      `prompts "${PROMPTS[0]}" → "${PROMPTS[1]}"; ` +
      `target sex=Female:0.5,Male:0.5 → sex=Female:0.9,Male:0.1. ${ADVICE}`,
  );
  // Refused before any change: the model is as it was given.
  expectSameWeights(untouched, weightsSync(model.textEncoder));

  // restart: from step 1, ending where a run with those settings and no state file ends.
  const restarted = await bed.collect(model, { ...other, stateFile, restart: true });
  expect(stepEvents(restarted).map((e) => e.step)).toEqual([1, 2]);
  const fresh = textModel();
  await bed.collect(fresh, other);
  expectSameWeights(weightsSync(fresh.textEncoder), weightsSync(model.textEncoder));

  // The file now holds the new settings: the same run again takes no step and ends the same.
  const again = textModel();
  const repeat = await bed.collect(again, { ...other, stateFile });
  expect(stepEvents(repeat)).toEqual([]);
  expect(repeat.at(-1)).toMatchObject({ type: "done", steps: 2, aborted: false });
  expectSameWeights(weightsSync(fresh.textEncoder), weightsSync(again.textEncoder));
  for (const m of [model, fresh, again]) m.dispose();
}, 180_000);

test("subgroup: another target or consistency weight is refused, naming both", async () => {
  const stateFile = path.join(bed.dir, "subgroup.state.fdckpt");
  const options = {
    steps: 1,
    seed: 1,
    prompts: [PROMPTS[0]],
    target: () => ({ sex: { Female: 0.5, Male: 0.5 } }),
    batchSize: 2,
    sampler: { steps: 2 },
    stateFile,
  };
  const first = textModel();
  await collectEvents(subgroupAlignedTuning(first, bed.classifier, options));
  first.dispose();
  const second = textModel();
  await expect(
    collectEvents(
      subgroupAlignedTuning(second, bed.classifier, {
        ...options,
        target: () => ({ sex: { Female: 0.7, Male: 0.3 } }),
        consistencyWeight: 0.25,
      }),
    ),
  ).rejects.toThrow(
    `${stateFile} was written with other settings: ` +
      "target sex=Female:0.5,Male:0.5 → sex=Female:0.7,Male:0.3; consistency weight 1 → 0.25. " +
      ADVICE,
  );
  second.dispose();
}, 120_000);

test("perturb: a state file is bound to the model it started from and to the learning rate", async () => {
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 16, seed: 1, imageSize: 16 });
  const examples = labelledExamples(cohort.records.map((_, i) => cohort.sampleAt(i)));
  const stateFile = path.join(bed.dir, "perturb.state.fdckpt");
  const options: FairPerturbationOptions = {
    examples,
    attributes: [defineAttribute("sex", ["Female", "Male"])],
    steps: 1,
    seed: 2,
    batchSize: 4,
    learningRate: 1e-3,
    stateFile,
  };
  const first = tinyModel(examples, 3);
  await collectEvents(fairBayesianPerturbation(first, options));
  first.dispose();
  // Another base model (another init seed) and another learning rate.
  const other = tinyModel(examples, 4);
  await expect(
    collectEvents(fairBayesianPerturbation(other, { ...options, learningRate: 2e-3 })),
  ).rejects.toThrow(
    new RegExp(
      `perturb\\.state\\.fdckpt was written with other settings: model [0-9a-f]{12}… → [0-9a-f]{12}…; learning rate 0\\.001 → 0\\.002\\. `,
    ),
  );
  other.dispose();
}, 120_000);
