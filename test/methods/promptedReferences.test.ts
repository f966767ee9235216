/**
 * Method 1's two terms that name the patient's groups in a prompt: the prompt subject reader and
 * writer (in step with the datasets' own prompt functions), the prompted references (which images
 * get one, naming what), the prior-preservation term (zero for the untuned model, its gradient
 * lowers it), the options' checks, and a run with both on (reported, no tensor left behind).
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  chestFindingsPrompt,
  chexpertPrompt,
  fairGenMedPrompt,
  ham10000Prompt,
} from "../../src/data/prompts";
import { promptSubject } from "../../src/data/promptSubject";
import { resolveAlignmentAttributes } from "../../src/methods/alignmentAttributes";
import {
  alignmentRunSettings,
  resolveAlignmentOptions,
  type DistributionalAlignmentOptions,
  type PriorChain,
} from "../../src/methods/alignmentOptions";
import { originalPredictionMatchGradients } from "../../src/methods/originalPredictionMatch";
import { priorPrompts } from "../../src/methods/priorPreservation";
import { trainingCaptions } from "../../src/methods/startFix";
import { promptedReferencePrompts } from "../../src/methods/promptedReferences";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { createRng } from "../../src/util/random";
import {
  TEXT_MODEL_CONFIG,
  alignmentClassifierWithAge,
  alignmentOptions,
  alignmentTestBed,
  raceUnetLoraOptions,
  stepEvents,
  SEX_RACE_SIXTHS,
  unetLoraKeepingOriginal,
} from "./fixtures";

const bed = alignmentTestBed();

const NEUTRAL = chestFindingsPrompt({ findings: ["Pleural Effusion"] });

test("a prompt's subject is read and rewritten exactly as each dataset writes it", () => {
  for (const sex of ["Female", "Male"]) {
    for (const race of ["Asian", "Black", "White"]) {
      const named = chestFindingsPrompt({ sex, race, findings: ["Pleural Effusion"] });
      expect(promptSubject(named).groups).toEqual({ sex, race });
      expect(promptSubject(NEUTRAL).naming({ sex, race })).toBe(named);
      const anchor = chexpertPrompt({ sex, race, positive: false });
      expect(promptSubject(chexpertPrompt({ positive: false })).naming({ sex, race })).toBe(anchor);
    }
    for (const ageGroup of ["under 60", "60 or older"] as const) {
      const named = ham10000Prompt({ sex, ageGroup, malignant: true });
      expect(promptSubject(named).groups).toEqual({ sex, ageGroup });
      expect(promptSubject(ham10000Prompt({ malignant: true })).naming({ ageGroup, sex })).toBe(
        named,
      );
    }
  }
  const fundus = (race?: string, sex?: string, ethnicity?: string) =>
    fairGenMedPrompt({
      race,
      sex,
      ethnicity,
      glaucoma: true,
      vision: "mild",
      cupDisc: "normal",
      outlook: "myopia",
    });
  expect(
    promptSubject(fundus()).naming({ sex: "Male", ethnicity: "Hispanic", race: "Black" }),
  ).toBe(fundus("Black", "Male", "Hispanic"));
  // Naming one group keeps the others the prompt names.
  const maleWhite = chestFindingsPrompt({ sex: "Male", race: "White", findings: [] });
  expect(promptSubject(maleWhite).naming({ race: "Asian" })).toBe(
    chestFindingsPrompt({ sex: "Male", race: "Asian", findings: [] }),
  );
  expect(promptSubject(NEUTRAL).choices).toEqual({
    sex: ["Female", "Male"],
    race: ["Asian", "Black", "White"],
  });
  expect(() => promptSubject("a chest x-ray")).toThrow(
    /prompt "a chest x-ray" is in no known format: expected one that starts "Chest Radiography image of a … patient"/,
  );
  expect(() => promptSubject("Chest Radiography image of a tall patient")).toThrow(
    /cannot read "tall" as a chest radiograph subject \(sex, race\)/,
  );
  expect(() => promptSubject(NEUTRAL).naming({ race: "Martian" })).toThrow(
    /cannot name race "Martian": expected one of Asian, Black, White/,
  );
});

test("prompted references: only images whose confident target changes, naming targets and held groups", () => {
  const race = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const [sexHeld] = resolveAlignmentAttributes(bed.classifier, {
    sex: { Female: 0.5, Male: 0.5 },
  });
  const prompts = promptedReferencePrompts({
    classifier: bed.classifier,
    prompts: new Array<string>(4).fill(NEUTRAL),
    attributes: race,
    // White → Black, no confident target, Asian stays Asian, White → Asian.
    labels: [Int32Array.of(1, -1, 0, 0)],
    referenceGroups: [Int32Array.of(2, 2, 0, 2)],
    held: [sexHeld],
    heldGroups: [Int32Array.of(1, 1, 1, -1)],
  });
  expect(prompts).toEqual([
    chestFindingsPrompt({ sex: "Male", race: "Black", findings: ["Pleural Effusion"] }),
    undefined,
    undefined,
    chestFindingsPrompt({ race: "Asian", findings: ["Pleural Effusion"] }),
  ]);
  // An intersection names both of its components.
  const both = resolveAlignmentAttributes(bed.classifier, SEX_RACE_SIXTHS);
  expect(
    promptedReferencePrompts({
      classifier: bed.classifier,
      prompts: [NEUTRAL],
      attributes: both,
      labels: [Int32Array.of(1)], // Female×Black
      referenceGroups: [Int32Array.of(5)], // Male×White
      held: [],
      heldGroups: [],
    }),
  ).toEqual([
    chestFindingsPrompt({ sex: "Female", race: "Black", findings: ["Pleural Effusion"] }),
  ]);
});

test("an image whose change the prompt cannot name keeps the plain reference", () => {
  const withAge = alignmentClassifierWithAge();
  try {
    const attributes = resolveAlignmentAttributes(withAge, {
      race: { Asian: 0.34, Black: 0.33, White: 0.33 },
      ageBand: { "18-39": 0.375, "40-64": 0.375, "65+": 0.25 },
    });
    const prompts = promptedReferencePrompts({
      classifier: withAge,
      prompts: [NEUTRAL, NEUTRAL],
      attributes,
      // Image 0 changes race only (age stays: named nowhere); image 1 changes its age band.
      labels: [Int32Array.of(0, 2), Int32Array.of(2, 0)],
      referenceGroups: [Int32Array.of(2, 2), Int32Array.of(2, 2)],
      held: [],
      heldGroups: [],
    });
    expect(prompts).toEqual([
      chestFindingsPrompt({ race: "Asian", findings: ["Pleural Effusion"] }),
      undefined,
    ]);
  } finally {
    withAge.dispose();
  }
});

test("options naming groups are refused before any work for prompts in no known format", () => {
  const options = (overrides: object) => ({
    ...alignmentOptions({ prompts: ["a chest x-ray"] }),
    ...overrides,
  });
  expect(() => resolveAlignmentOptions(options({ changedReference: "prompted" }))).toThrow(
    /changedReference must be "neutral" for these prompts \(prompt "a chest x-ray" is in no known format/,
  );
  expect(() => resolveAlignmentOptions(options({ priorWeight: 2 }))).toThrow(
    /priorWeight must be 0 for these prompts/,
  );
  expect(() => resolveAlignmentOptions(options({ changedReference: "both" }))).toThrow(
    /changedReference must be .*"neutral".*"prompted".*, got "both"/,
  );
  expect(() => resolveAlignmentOptions(options({ priorWeight: -1 }))).toThrow(
    /priorWeight must be ≥ 0, got -1/,
  );
  expect(resolveAlignmentOptions(options({})).changedReference).toBe("neutral");
});

/** The tiny text model, its vocabulary the chest prompts'. */
const chestModel = () =>
  LatentDiffusionModel.create(
    [NEUTRAL, promptSubject(NEUTRAL).naming({ sex: "Female", race: "Asian" })],
    TEXT_MODEL_CONFIG,
    4,
  );

test("prior preservation: zero for the untuned model; its gradient lowers it", async () => {
  const model = chestModel();
  const adapters = await unetLoraKeepingOriginal(model);
  const prompts = priorPrompts(NEUTRAL, 3, createRng(5));
  expect(prompts.every((p) => p !== NEUTRAL && promptSubject(p).groups.race !== undefined)).toBe(
    true,
  );
  const latents = tf.randomNormal([3, 4, 4, 4], 0, 1, "float32", 2) as tf.Tensor4D;
  const term = (weight: number) =>
    originalPredictionMatchGradients({
      adapters,
      prompts,
      latents,
      t: 600,
      guidanceScale: 3,
      weight,
    });
  const untuned = await term(1);
  expect(untuned.loss).toBe(0);
  tf.dispose(untuned.gradients);
  // Stands in for fine-tuning on another prompt: every LoRA weight moved.
  for (const v of adapters.variables) tf.tidy(() => v.assign(tf.add(v, 0.05)));
  const tensors = tf.memory().numTensors;
  const moved = await term(2);
  expect(moved.loss).toBeGreaterThan(0);
  expect(moved.gradients.map((g) => g.shape)).toEqual(adapters.variables.map((v) => v.shape));
  adapters.variables.forEach((v, i) =>
    tf.tidy(() => v.assign(tf.sub(v, tf.mul(moved.gradients[i], 1e-3)))),
  );
  tf.dispose(moved.gradients);
  expect(tf.memory().numTensors).toBe(tensors);
  const after = await term(2);
  expect(after.loss).toBeLessThan(moved.loss);
  tf.dispose(after.gradients);
  latents.dispose();
  adapters.drop();
  model.dispose();
});

test("the prior term can hold a model's training captions: every finding, never the tuned prompt", () => {
  const model = chestModel();
  // A model that does not say what it was trained on gets no guessed captions.
  expect(() => trainingCaptions(model, [NEUTRAL])).toThrow(
    /does not record the preset it was trained from/,
  );
  model.info = { ...model.info, preset: "cxr-mini" };
  const captions = trainingCaptions(model, [NEUTRAL]);
  // cxr-mini's 4,000 training captions, each naming sex and race.
  expect(captions).toHaveLength(4000);
  expect(captions.every((c) => Object.keys(promptSubject(c).groups).length === 2)).toBe(true);
  for (const finding of ["Pleural Effusion", "Cardiomegaly", "No Finding"]) {
    expect(captions.some((c) => c.endsWith(finding))).toBe(true);
  }
  // A tuned prompt among them is left out: the prior would hold what the tuning must change.
  const named = captions[0];
  expect(trainingCaptions(model, [named]).includes(named)).toBe(false);
  // Drawn from the captions only, in their proportions.
  const three = [captions[0], "b", "c"];
  const drawn = priorPrompts(NEUTRAL, 300, createRng(8), three);
  expect(new Set(drawn)).toEqual(new Set(three));
  expect(drawn.filter((p) => p === "b").length).toBeGreaterThan(70);
  model.dispose();
});

test("prior captions are checked before work: only with the prior term on, never empty", () => {
  const options = (overrides: object) => ({
    ...alignmentOptions({ prompts: [NEUTRAL] }),
    ...overrides,
  });
  expect(() => resolveAlignmentOptions(options({ priorCaptions: [NEUTRAL] }))).toThrow(
    /priorCaptions must be left out unless priorWeight > 0, got "1 captions"/,
  );
  expect(() => resolveAlignmentOptions(options({ priorWeight: 1, priorCaptions: [] }))).toThrow(
    /priorCaptions must be at least one caption, got "0 captions"/,
  );
  // Given captions, the tuned prompt need not be one whose subject can be named.
  const free = options({ prompts: ["a chest x-ray"], priorWeight: 1, priorCaptions: [NEUTRAL] });
  expect(resolveAlignmentOptions(free).priorCaptions).toEqual([NEUTRAL]);
  // The state file is bound to them: other captions, another setting; none, no entry (older
  // state files keep matching).
  const recorded = (captions?: string[]) =>
    alignmentRunSettings(
      resolveAlignmentOptions(options({ priorWeight: 1, priorCaptions: captions })),
    )["prior captions"];
  expect(recorded([NEUTRAL, "b"])).toMatch(/^2 texts, sha256 [0-9a-f]{64}$/);
  expect(recorded([NEUTRAL, "b"])).not.toBe(recorded(["b", NEUTRAL]));
  expect(recorded(undefined)).toBeUndefined();
});

test("a run with prompted references and prior preservation reports both and frees its tensors", async () => {
  const model = chestModel();
  const run = (overrides: Partial<DistributionalAlignmentOptions>) =>
    bed.collect(model, raceUnetLoraOptions(NEUTRAL, { threshold: 0, ...overrides }));
  const plain = stepEvents(await run({}));
  const tensors = tf.memory().numTensors;
  const named = stepEvents(await run({ changedReference: "prompted", priorWeight: 5 }));
  expect(tf.memory().numTensors).toBe(tensors);
  const prompted = named.map((e) => e.detail?.promptedReferences as number);
  expect(Math.max(...prompted)).toBeGreaterThan(0);
  expect(plain.every((e) => e.detail?.promptedReferences === 0)).toBe(true);
  expect(plain.every((e) => e.losses.prior === undefined)).toBe(true);
  // The first step's model is the original: nothing to preserve yet; later steps have a prior term.
  expect(named[0].losses.prior).toBe(0);
  expect(named[2].losses.prior).toBeGreaterThan(0);
  for (const e of named) {
    expect(e.losses.total).toBeCloseTo(
      e.losses.fairness + e.losses.semantic + e.losses.preservation + e.losses.prior,
      4,
    );
  }
  // A prompted step compares with other images than the plain run's same step.
  const k = prompted.findIndex((p) => p > 0);
  expect(named[k].losses.semantic).not.toBeCloseTo(plain[k].losses.semantic, 6);
  model.dispose();
});

test("the prior chain: checked before work, recorded only where not the default, held on other latents without a leak", async () => {
  const options = (overrides: object) => ({
    ...alignmentOptions({ prompts: [NEUTRAL] }),
    ...overrides,
  });
  expect(() => resolveAlignmentOptions(options({ priorChain: "original" }))).toThrow(
    /priorChain must be "tuned" unless priorWeight > 0, got "original"/,
  );
  expect(() => resolveAlignmentOptions(options({ priorWeight: 1, priorChain: "own" }))).toThrow(
    /priorChain must be "tuned" or "original", got "own"/,
  );
  const recorded = (priorChain?: string) =>
    alignmentRunSettings(resolveAlignmentOptions(options({ priorWeight: 1, priorChain })))[
      "prior chain"
    ];
  expect(recorded("original")).toBe("original");
  // The default leaves the record as it was: older state files keep matching.
  expect(recorded(undefined)).toBeUndefined();
  expect(recorded("tuned")).toBeUndefined();

  const model = chestModel();
  const run = (priorChain: PriorChain) =>
    bed.collect(
      model,
      raceUnetLoraOptions(NEUTRAL, { semanticWeight: 0, priorWeight: 5, priorChain }),
    );
  const tuned = stepEvents(await run("tuned"));
  const tensors = tf.memory().numTensors;
  const original = stepEvents(await run("original"));
  expect(tf.memory().numTensors).toBe(tensors);
  // On the held prompts' own chain the term differs from the tuned prompt's chain's (with the
  // option ignored the two runs would be identical).
  expect(original[2].losses.prior).toBeGreaterThan(0);
  expect(original[2].losses.prior).not.toBeCloseTo(tuned[2].losses.prior as number, 8);
  model.dispose();
});
