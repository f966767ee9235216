import {
  CARDIOMEGALY,
  COHORTS,
  createSyntheticCohort,
  PLEURAL_EFFUSION,
  type MedicalSample,
} from "../../src/data";

function count<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  return items.reduce((n, item) => n + (predicate(item) ? 1 : 0), 0);
}

describe("synthetic cohorts", () => {
  test.each(["cxr", "derm", "fundus"] as const)(
    "%s: same seed gives identical samples, any index on its own",
    (cohort) => {
      const a = createSyntheticCohort({ cohort, size: 20, seed: 7 });
      const b = createSyntheticCohort({ cohort, size: 20, seed: 7 });
      const c = createSyntheticCohort({ cohort, size: 20, seed: 8 });
      const sa = a.sampleAt(13);
      expect(Array.from(b.sampleAt(13).image.data)).toEqual(Array.from(sa.image.data));
      expect(b.records.map((r) => r.prompt)).toEqual(a.records.map((r) => r.prompt));
      expect(Array.from(c.sampleAt(13).image.data)).not.toEqual(Array.from(sa.image.data));
      const expectedChannels = COHORTS[cohort].channels;
      expect(sa.image).toMatchObject({ width: 32, height: 32, channels: expectedChannels });
      expect(sa.image.data.length).toBe(32 * 32 * expectedChannels);
      expect(Math.min(...sa.image.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...sa.image.data)).toBeLessThanOrEqual(1);
      expect(() => a.sampleAt(20)).toThrow(/index 20 is out of range/);
    },
  );

  test("image size is configurable", () => {
    const s = createSyntheticCohort({ cohort: "fundus", size: 1, seed: 1, imageSize: 64 }).sampleAt(
      0,
    );
    expect(s.image).toMatchObject({ width: 64, height: 64, channels: 3 });
    expect(() => createSyntheticCohort({ cohort: "cxr", size: 1, seed: 1, imageSize: 3 })).toThrow(
      /imageSize must be an integer in \[8, 1024\], got 3/,
    );
    expect(() => createSyntheticCohort({ cohort: "mri" as never, size: 1, seed: 1 })).toThrow(
      /unknown cohort "mri"/,
    );
  });

  test("prompts follow the anchor formats; chest captions name every finding present", () => {
    const cxr = createSyntheticCohort({ cohort: "cxr", size: 200, seed: 3 }).records;
    const seen = new Set<string>();
    for (const r of cxr) {
      const present = [PLEURAL_EFFUSION, CARDIOMEGALY].filter((f) => r.labels[f] === 1);
      const findings =
        present.length === 0 ? "with No Finding" : `diagnosed with ${present.join(" and ")}`;
      seen.add(findings);
      expect(r.prompt).toBe(
        `Chest Radiography image of a ${r.attributes.sex} ${r.attributes.race} patient ${findings}`,
      );
    }
    // Every combination occurs, so the model's vocabulary holds every finding's words.
    expect(seen.size).toBe(4);
    const derm = createSyntheticCohort({ cohort: "derm", size: 50, seed: 3 }).records;
    for (const r of derm) {
      expect(r.prompt).toMatch(
        /^Dermoscopic image of a (Male|Female) (Age under 60|Age equal 60 or older) patient with the following diagnostic category: (benign|malignant)$/,
      );
      expect(r.prompt.endsWith(r.labels.malignant === 1 ? "malignant" : "benign")).toBe(true);
      expect((r.details.age as number) >= 60).toBe(r.attributes.ageGroup === "60 or older");
    }
    const fundus = createSyntheticCohort({ cohort: "fundus", size: 50, seed: 3 }).records;
    for (const r of fundus) {
      expect(r.prompt).toMatch(
        /^SLO fundus image of a (Asian|Black|White) (Male|Female) (Hispanic|Non-Hispanic) patient with the following conditions: (glaucoma|non-glaucoma), (normal vision|(mild|moderate|severe) vision loss), (normal|borderline|abnormal) cup-disc ratio, (hyperopia|emmetropia|myopia)$/,
      );
    }
  });

  test("exact proportions overall and conditional on a finding (85% of effusion cases male)", () => {
    const cohort = createSyntheticCohort({
      cohort: "cxr",
      size: 1000,
      seed: 11,
      mix: {
        prevalence: { [PLEURAL_EFFUSION]: 0.4 },
        attributes: { sex: { Female: 0.5, Male: 0.5 } },
        givenFinding: { [PLEURAL_EFFUSION]: { sex: { Female: 0.15, Male: 0.85 } } },
      },
    });
    const r = cohort.records;
    const positives = r.filter((x) => x.labels[PLEURAL_EFFUSION] === 1);
    expect(positives).toHaveLength(400);
    expect(count(positives, (x) => x.attributes.sex === "Male")).toBe(340);
    // Overall stays 50/50: the negatives absorb the difference (160 male of 600).
    expect(count(r, (x) => x.attributes.sex === "Male")).toBe(500);
  });

  test("joint targets over an intersection and independent sampling", () => {
    const joint = {
      "Female×Asian": 0.3,
      "Female×Black": 0.1,
      "Female×White": 0.1,
      "Male×Asian": 0.1,
      "Male×Black": 0.1,
      "Male×White": 0.3,
    };
    const r = createSyntheticCohort({
      cohort: "cxr",
      size: 200,
      seed: 2,
      mix: { attributes: { "sex×race": joint } },
    }).records;
    expect(count(r, (x) => x.attributes.sex === "Female" && x.attributes.race === "Asian")).toBe(
      60,
    );
    const indep = createSyntheticCohort({
      cohort: "cxr",
      size: 2000,
      seed: 2,
      mix: { sampling: "independent", prevalence: { [CARDIOMEGALY]: 0.2 } },
    }).records;
    const frac = count(indep, (x) => x.labels[CARDIOMEGALY] === 1) / 2000;
    expect(frac).toBeGreaterThan(0.17);
    expect(frac).toBeLessThan(0.23);
  });

  test("impossible or malformed mixes are errors naming the value", () => {
    const make = (mix: object) => () =>
      createSyntheticCohort({ cohort: "cxr", size: 10, seed: 1, mix: mix as never });
    expect(make({ prevalence: { Pneumonia: 0.2 } })).toThrow(/unknown finding "Pneumonia"/);
    expect(make({ prevalence: { [PLEURAL_EFFUSION]: 1.5 } })).toThrow(
      /must be in \[0, 1\], got 1.5/,
    );
    expect(make({ attributes: { sex: { Female: 0.7, Male: 0.7 } } })).toThrow(/sums to 1.4/);
    expect(make({ attributes: { sex: { Female: 0.5, Male: 0.5 }, "sex×race": {} } })).toThrow(
      /"sex" is given both/,
    );
    expect(
      make({
        prevalence: { [PLEURAL_EFFUSION]: 0.8 },
        givenFinding: { [PLEURAL_EFFUSION]: { sex: { Female: 0.0, Male: 1.0 } } },
      }),
    ).toThrow(/cannot keep sex=Female at 0.5 overall/);
  });

  test("cues differ between groups in the pixels (sanity, not learnability)", () => {
    const mean = (samples: MedicalSample[]) =>
      samples.reduce(
        (s, x) => s + x.image.data.reduce((a, b) => a + b, 0) / x.image.data.length,
        0,
      ) / samples.length;
    const derm = createSyntheticCohort({ cohort: "derm", size: 60, seed: 5 });
    const all = derm.records.map((_, i) => derm.sampleAt(i));
    const light = all.filter((s) => s.attributes.skinTone === "I-II");
    const dark = all.filter((s) => s.attributes.skinTone === "V-VI");
    expect(mean(light) - mean(dark)).toBeGreaterThan(0.2);
  });
});
