/**
 * Representation audit: hand-checked metrics on known predictions, the confusion correction,
 * prompt parsing, and an end-to-end run (toy model and classifier) that is seeded and complete.
 */
import { useBackend } from "../../src/backend";
import {
  attributeRepresentation,
  auditRepresentation,
  namedGroup,
  pairsFromConfusion,
  requestedFinding,
} from "../../src/audit";
import { tasksFor, trainSubgroupClassifier } from "../../src/classifiers";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { tinyExamples, tinyModel } from "../pipeline/tinyModel";

function predictions(counts: number[]): { predicted: Int32Array; probabilities: Float32Array } {
  const k = counts.length;
  const predicted = Int32Array.from(counts.flatMap((c, g) => new Array<number>(c).fill(g)));
  const probabilities = new Float32Array(predicted.length * k);
  predicted.forEach((g, i) => (probabilities[i * k + g] = 1));
  return { predicted, probabilities };
}

test("70/30 against a uniform target: bias, TV, intervals that exclude 0.5", () => {
  const r = attributeRepresentation({
    attribute: "sex",
    groups: ["Female", "Male"],
    ...predictions([30, 70]),
    target: [0.5, 0.5],
    seed: 1,
    resamples: 1000,
  });
  expect(r.counts).toEqual([30, 70]);
  expect(r.proportions[1].estimate).toBeCloseTo(0.7);
  expect(r.proportions[1].lower).toBeGreaterThan(0.5);
  expect(r.bias.estimate).toBeCloseTo(0.4); // mean over the one pair |0.3 − 0.7|
  expect(r.totalVariation.estimate).toBeCloseTo(0.2);
  expect(r.fairnessDiscrepancy).toBeCloseTo(Math.sqrt(2 * 0.2 * 0.2));
  expect(r.bias.lower).toBeGreaterThan(0);
  expect(r.corrected).toBeUndefined();
  expect(() =>
    attributeRepresentation({
      attribute: "sex",
      groups: ["Female", "Male"],
      ...predictions([1, 1]),
      target: [1],
      seed: 1,
    }),
  ).toThrow(/target for "sex" has 1 entries, the attribute has 2 groups/);
});

test("a group with all or none of the images keeps a real interval (Wilson), not a point", () => {
  const r = attributeRepresentation({
    attribute: "sex",
    groups: ["Female", "Male"],
    ...predictions([0, 40]),
    target: [0.5, 0.5],
    seed: 1,
    resamples: 500,
  });
  // Every bootstrap resample of 40/40 is 40/40: the percentile interval would read [1, 1].
  expect(r.proportions[1]).toMatchObject({ estimate: 1, upper: 1, method: "wilson" });
  expect(r.proportions[1].lower).toBeCloseTo(0.9124, 3); // Wilson 95 % for 40 of 40
  expect(r.proportions[0]).toMatchObject({ estimate: 0, lower: 0, method: "wilson" });
  expect(r.proportions[0].upper).toBeCloseTo(0.0876, 3);
});

test("the confusion correction undoes a classifier that calls 20 % of women men", () => {
  // True 50/50; the classifier labels 20 % of women Male → observed 40/60.
  const confusion = [
    [80, 20],
    [0, 100],
  ];
  expect(pairsFromConfusion(confusion).truth.length).toBe(200);
  const r = attributeRepresentation({
    attribute: "sex",
    groups: ["Female", "Male"],
    ...predictions([400, 600]),
    target: [0.5, 0.5],
    confusion,
    seed: 2,
    resamples: 500,
  });
  expect(r.proportions[0].estimate).toBeCloseTo(0.4);
  expect(r.corrected?.[0].estimate).toBeCloseTo(0.5, 5);
  expect(r.corrected?.[0].lower).toBeLessThan(0.5);
  expect(r.corrected?.[0].upper).toBeGreaterThan(0.5);
});

test("prompts are read for the groups and findings they name", () => {
  const p = "Chest Radiography image of a Female White patient diagnosed with non Pleural Effusion";
  expect(namedGroup(p, ["Female", "Male"])).toBe("Female");
  expect(namedGroup(p, ["Asian", "Black", "White"])).toBe("White");
  expect(namedGroup("Chest Radiography image", ["Female", "Male"])).toBeUndefined();
  expect(requestedFinding(p, "Pleural Effusion")).toBe(false);
  expect(requestedFinding(p.replace("non ", ""), "Pleural Effusion")).toBe(true);
  expect(requestedFinding(p, "Cardiomegaly")).toBeUndefined();
  const none = "Chest Radiography image of a Female White patient with No Finding";
  expect(requestedFinding(none, "Pleural Effusion")).toBe(false);
  expect(requestedFinding(none, "Cardiomegaly")).toBe(false);
  const both =
    "Chest Radiography image of a patient diagnosed with Pleural Effusion and Cardiomegaly";
  expect(requestedFinding(both, "Pleural Effusion")).toBe(true);
  expect(requestedFinding(both, "Cardiomegaly")).toBe(true);
});

test("an end-to-end audit is complete and repeatable with the same seed", async () => {
  await useBackend("wasm");
  const model = tinyModel(tinyExamples(16));
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 96, seed: 5, imageSize: 16 });
  const samples = cohort.records.map((_, i) => cohort.sampleAt(i));
  const classifier = await trainSubgroupClassifier(
    { train: samples.slice(0, 64), calibration: samples.slice(64, 80), test: samples.slice(80) },
    {
      tasks: tasksFor(cohort.attributes, cohort.findings),
      seed: 1,
      epochs: 1,
      channels: [4, 8],
      batchSize: 32,
    },
  );
  const prompts = [
    "Chest Radiography image of a Male Black patient diagnosed with Pleural Effusion",
  ];
  const options = {
    prompts,
    imagesPerPrompt: 6,
    seed: 3,
    intersections: [["sex", "race"]],
    generation: { steps: 3 },
    resamples: 200,
  };
  const first = await auditRepresentation(model, classifier, options);
  const again = await auditRepresentation(model, classifier, options);
  expect(again).toEqual(first);
  const [result] = first;
  expect(result.n).toBe(6);
  expect(result.attributes.map((a) => a.attribute)).toEqual(["sex", "race", "ageBand"]);
  for (const a of [...result.attributes, ...result.intersections]) {
    expect(a.counts.reduce((s, c) => s + c, 0)).toBe(6);
  }
  expect(result.intersections[0].groups).toHaveLength(6);
  // An untrained classifier cannot be inverted: the audit says so instead of failing.
  for (const a of result.attributes)
    expect(a.corrected !== undefined || a.correctionUnavailable !== undefined).toBe(true);
  expect(Object.keys(result.adherence).sort()).toEqual(["race", "sex"]);
  expect(result.findings.find((f) => f.finding === "Pleural Effusion")?.requested).toBe(true);
  await expect(
    auditRepresentation(model, classifier, {
      ...options,
      targets: { sex: { Female: 0.7, Male: 0.2 } },
    }),
  ).rejects.toThrow(/target for "sex" sums to 0\.89+/);
  classifier.dispose();
  model.dispose();
}, 120000);
