/**
 * The study's pieces that need no model: settings checks, the static SVG charts, the real-format
 * stand-ins read back by the real loaders, and what `fairdiff start` says is missing for the lab.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { labRequirementsMissing } from "../../src/cli/commands/start";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { loadChexpert } from "../../src/data/loaders/chexpert";
import { chexpertPrompt } from "../../src/data/prompts";
import { loadFairGenMed } from "../../src/data/loaders/fairGenMed";
import { loadHam10000 } from "../../src/data/loaders/ham10000";
import {
  writeChexpertFormat,
  writeFairGenMedFormat,
  writeHam10000Format,
} from "../../src/study/realFormatFixtures";
import { studySettings } from "../../src/study/studySettings";
import { staticFigure } from "../../src/study/staticFigure";
import { lineChartSvg, niceTicks, shareBarChartSvg } from "../../src/study/svgCharts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "fairdiff-study-parts-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("studySettings", () => {
  test("quick is smaller than full in every count", () => {
    const quick = studySettings(true);
    const full = studySettings(false);
    expect(quick.imagesPerAudit).toBeLessThan(full.imagesPerAudit);
    expect(quick.alignment.steps).toBeLessThan(full.alignment.steps);
    expect(quick.prompt).toBe("Chest Radiography image of a patient diagnosed with Pleural Effusion");
  });

  test("overrides merge, and a bad one is an error naming the value", () => {
    expect(studySettings(true, { alignment: { steps: 3 } as never }).alignment.batchSize).toBe(
      studySettings(true).alignment.batchSize,
    );
    expect(() => studySettings(true, { imagesPerAudit: 1 })).toThrow(
      "study imagesPerAudit must be an integer ≥ 2, got 1",
    );
    expect(() => studySettings(false, { fixAttribute: "ageBand" })).toThrow(
      'study fixAttribute "ageBand" is not among the audited attributes (sex, race)',
    );
    expect(() =>
      studySettings(true, { alignment: { ...studySettings(true).alignment, learningRate: -1 } }),
    ).toThrow("learningRate must be > 0, got -1");
  });
});

describe("static SVG charts", () => {
  test("ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 37, 4)).toEqual([0, 10, 20, 30]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });

  test("a line chart draws one path per series, skips non-finite points and escapes text", () => {
    const svg = lineChartSvg(
      [
        { name: "loss <total>", points: [[1, 2], [2, 1], [3, Number.NaN], [4, 0.5]] },
        { name: "bias", points: [[1, 1], [2, 0.5]] },
      ],
      { title: 'a "title" & more' },
    );
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(5); // the NaN point is left out
    expect(svg).toContain("loss &lt;total&gt;");
    expect(svg).toContain("a &quot;title&quot; &amp; more");
    expect(svg).not.toContain("NaN");
  });

  test("a share chart draws one bar per series and group, intervals and the target", () => {
    const svg = shareBarChartSvg(
      [
        { name: "before", values: [1, 0], lower: [0.9, 0], upper: [1, 0.1] },
        { name: "after", values: [0.4, 0.6] },
      ],
      { title: "sex", groups: ["Female", "Male"], target: [0.5, 0.5] },
    );
    expect(svg.match(/<rect x=/g)?.length).toBe(4 + 2); // bars + legend swatches
    expect(svg).toContain("after Male: 60.0 %");
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(() => shareBarChartSvg([{ name: "x", values: [1] }], { title: "t", groups: ["a", "b"] })).toThrow(
      'bar series "x" has 1 values for 2 groups',
    );
  });
});

test("a static figure carries the SVG as an <img> data URI (for nbconvert) and as itself", () => {
  const svg = lineChartSvg([{ name: "a", points: [[0, 1], [1, 2]] }], { title: "loss & <bias>" });
  const bundle = staticFigure(svg).toMimeBundle();
  const html = bundle["text/html"] as string;
  const data = /^<img src="data:image\/svg\+xml;base64,([^"]+)" alt="loss &amp; &lt;bias&gt;"\/>$/.exec(html);
  expect(data).not.toBeNull();
  expect(Buffer.from(data![1], "base64").toString("utf8")).toBe(svg);
  expect(bundle["image/svg+xml"]).toBe(svg);
  expect(() => staticFigure("<div>not svg</div>")).toThrow("staticFigure needs an SVG document");
});

describe("real-format stand-ins, read back by the real loaders", () => {
  test("CheXpert: every record, its sex, race (from the demographics table) and labels", async () => {
    const written = writeChexpertFormat({ root: path.join(dir, "chexpert"), size: 30, seed: 4 });
    const data = loadChexpert({
      root: written.root,
      demographicsCsv: written.files.demographicsCsv,
      imageSize: 32,
    });
    const cohort = createSyntheticCohort({ cohort: "cxr", size: 30, seed: 4, imageSize: 64 });
    expect(data.records).toHaveLength(30);
    expect(data.skipReport.skipped).toBe(0);
    data.records.forEach((r, i) => {
      const truth = cohort.records[i];
      expect(r.attributes.sex).toBe(truth.attributes.sex);
      expect(r.attributes.race).toBe(truth.attributes.race);
      expect(r.labels).toEqual(truth.labels);
      // The loader writes the anchors' CheXpert captions (one finding, "non" for its absence).
      const positive = truth.labels["Pleural Effusion"] === 1;
      expect(r.prompt).toBe(chexpertPrompt({ ...truth.attributes, positive }));
    });
    const sample = await data.load(3);
    expect([sample.image.width, sample.image.channels]).toEqual([32, 1]);
  });

  test("HAM10000 and FairGenMed: groups and labels survive the round trip", async () => {
    const ham = writeHam10000Format({ root: path.join(dir, "ham"), size: 12, seed: 5 });
    const hamData = loadHam10000({ root: ham.root, imageSize: 32 });
    const derm = createSyntheticCohort({ cohort: "derm", size: 12, seed: 5, imageSize: 64 });
    expect(hamData.records.map((r) => r.attributes.sex)).toEqual(
      derm.records.map((r) => r.attributes.sex),
    );
    expect(hamData.records.map((r) => r.labels.malignant)).toEqual(
      derm.records.map((r) => r.labels.malignant),
    );
    const fgm = writeFairGenMedFormat({ root: path.join(dir, "fgm"), size: 12, seed: 6 });
    const fgmData = loadFairGenMed({ root: fgm.root, imageSize: 32 });
    const fundus = createSyntheticCohort({ cohort: "fundus", size: 12, seed: 6, imageSize: 64 });
    expect(fgmData.records.map((r) => r.attributes)).toEqual(fundus.records.map((r) => r.attributes));
    expect(fgmData.records.map((r) => r.prompt)).toEqual(fundus.records.map((r) => r.prompt));
    const image = (await fgmData.load(0)).image;
    expect([image.width, image.channels]).toEqual([32, 3]);
  });

  test("a size that is not a positive integer is refused by name", () => {
    expect(() => writeHam10000Format({ root: path.join(dir, "bad"), size: 0, seed: 1 })).toThrow(
      "size must be a positive integer, got 0",
    );
  });
});

test("fairdiff start says what to install when there is no Jupyter server", () => {
  const missing = labRequirementsMissing("/nonexistent/python3");
  expect(missing[0]).toContain("/nonexistent/python3");
  expect(missing[0]).toContain("apt-get install python3-jupyter-server python3-jupyterlab-server");
});
