/**
 * The memorisation audit (issue #22): near-copies of training images among generated ones,
 * overall and per group, calibrated on held-out real images.
 *
 * - The check on the shipped model: cxr-mini's own training images (the preset's
 *   cohort), planted among clean generations — exact copies and copies with light Gaussian
 *   noise — are flagged (recall ≥ 0.95), each in its own group's counts, while at most 5 % of
 *   the clean generations are.
 * - Without a model: feature rows and images drawn independently are flagged at about `level`
 *   (the calibration holds), copies of training rows always, in their own group.
 */
import * as path from "node:path";
import { auditMemorisation, calibrateNearCopyThresholds } from "../../src/audit/memorisationAudit";
import {
  memorisationHtml,
  memorisationMarkdown,
  parseMemorisationAudit,
} from "../../src/audit/reportMemorisation";
import { toJsonValue } from "../../src/audit/reportJson";
import { AuditReport } from "../../src/audit/auditReport";
import { readAuditReport } from "../../extension/src/auditReport/reportJson";
import { fixtureInput } from "./reportFixture";
import type { MemorisationAudit } from "../../src/audit/memorisationTypes";
import {
  heldOutRealSamples,
  labelledImagesFromPrompts,
  labelledImagesFromSamples,
  type LabelledImages,
} from "../../src/audit/qualityImageSet";
import { useBackend } from "../../src/backend";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import { chestFindingsPrompt } from "../../src/data/prompts";
import { defineAttribute } from "../../src/data/subgroups";
import { decodeImage } from "../../src/io/imageCodec";
import { rastersFromBatch } from "../../src/io/imageGrid";
import type { RasterImage } from "../../src/io/rasterImage";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { trainingPreset } from "../../src/pipeline/presets";
import { generateImages } from "../../src/pipeline/textToImage";
import { createRng, type Rng } from "../../src/util/random";

const MODEL = path.resolve(__dirname, "../../models/cxr-mini.fdckpt");
const SIDE = 6; // synthetic images are SIDE × SIDE grayscale
const DIMENSION = 6; // synthetic feature rows
const SYNTHETIC_INFO = {
  name: "synthetic-gaussian",
  kind: "radiomic" as const,
  dimension: DIMENSION,
  description: "independent Gaussian rows, group B shifted",
};

interface SyntheticSide {
  set: LabelledImages;
  features: Float64Array;
}

/**
 * Independent draws: feature rows N(μ_group, I) and images of independent pixels, groups A and B
 * 70 / 30 — no image is a copy of another.
 */
function independentDraws(n: number, rng: Rng): SyntheticSide {
  const features = new Float64Array(n * DIMENSION);
  const images: RasterImage[] = [];
  const attributes: Record<string, string>[] = [];
  for (let i = 0; i < n; i++) {
    const group = rng.next() < 0.7 ? "A" : "B";
    for (let j = 0; j < DIMENSION; j++) {
      features[i * DIMENSION + j] = rng.normal() + (group === "B" && j === 0 ? 1.5 : 0);
    }
    const data = Float32Array.from({ length: SIDE * SIDE }, () =>
      Math.min(1, Math.max(0, 0.5 + 0.15 * rng.normal())),
    );
    images.push({ width: SIDE, height: SIDE, channels: 1, data });
    attributes.push({ sex: group });
  }
  return { set: { images, attributes, labels: attributes.map(() => ({})) }, features };
}

/** `generated` followed by exact copies (image and feature row) of training rows `sources`. */
function withCopies(generated: SyntheticSide, training: SyntheticSide, sources: number[]) {
  const rows = sources.map((s) => training.features.subarray(s * DIMENSION, (s + 1) * DIMENSION));
  const features = new Float64Array(generated.features.length + rows.length * DIMENSION);
  features.set(generated.features);
  rows.forEach((row, k) => features.set(row, generated.features.length + k * DIMENSION));
  const images = training.set.images as RasterImage[];
  return {
    set: {
      images: [...(generated.set.images as RasterImage[]), ...sources.map((s) => images[s])],
      attributes: [...generated.set.attributes, ...sources.map((s) => training.set.attributes[s])],
      labels: [...generated.set.labels, ...sources.map(() => ({}))],
    },
    features,
  };
}

function syntheticAudit(
  level: number,
  extra: Partial<Parameters<typeof auditMemorisation>[0]> = {},
) {
  const rng = createRng(level === 0.05 ? 1 : 2);
  const training = independentDraws(400, rng);
  const heldOut = independentDraws(2000, rng);
  const clean = independentDraws(2000, rng);
  const sources = rng.shuffle(Array.from({ length: 400 }, (_, i) => i)).slice(0, 40);
  const generated = withCopies(clean, training, sources);
  return {
    sources,
    nClean: 2000,
    generated: generated.set,
    run: () =>
      auditMemorisation({
        generated: generated.set,
        training: training.set,
        heldOut: heldOut.set,
        attributes: ["sex"],
        features: {
          info: SYNTHETIC_INFO,
          generated: { values: generated.features, dimension: DIMENSION },
          training: { values: training.features, dimension: DIMENSION },
          heldOut: { values: heldOut.features, dimension: DIMENSION },
        },
        level,
        ...extra,
      }),
  };
}

function noisyCopy(image: RasterImage, sigma: number, rng: Rng): RasterImage {
  const data = Float32Array.from(image.data, (v) =>
    Math.min(1, Math.max(0, v + sigma * rng.normal())),
  );
  return { ...image, data };
}

/** Near-copies per attribute and group, counted from the per-image flags and labels. */
function flaggedByGroup(
  result: MemorisationAudit,
  set: LabelledImages,
  attribute: string,
  group: string,
): number {
  return set.attributes.filter((a, i) => a[attribute] === group && result.images.nearCopy[i])
    .length;
}

describe("synthetic feature rows and images (no model)", () => {
  test.each([0.05, 0.2])(
    "copies of training rows are flagged in their group; independent draws at ≈ level %p",
    async (level) => {
      const { sources, nClean, generated, run } = syntheticAudit(level);
      const result = await run();
      // Every copy flagged, at ratio 0 in both spaces, its nearest training row its source.
      sources.forEach((source, k) => {
        const i = nClean + k;
        expect(result.images.nearCopy[i]).toBe(true);
        expect(result.images.features.nearestTraining[i]).toBe(source);
        expect(result.images.pixels.ratio[i]).toBe(0);
      });
      // Independent draws: flagged at about `level`, and so is the null in every group.
      const cleanShare = result.images.nearCopy.slice(0, nClean).filter(Boolean).length / nClean;
      expect(Math.abs(cleanShare - level)).toBeLessThan(level / 2);
      expect(result.calibration.flagged).toBeLessThanOrEqual(level * result.calibration.queries);
      expect(result.calibration.flagged).toBeGreaterThan(0.8 * level * result.calibration.queries);
      // Independent spaces: each at ≈ 1 − √(1 − level), between Bonferroni's level / 2 and level.
      expect(result.calibration.quantile).toBeGreaterThanOrEqual(0.45 * level);
      expect(result.calibration.quantile).toBeLessThan(0.75 * level);
      // Per group: each copy counted in its source's group.
      const [table] = result.byAttribute;
      expect(table.attribute).toBe("sex");
      for (const row of table.groups) {
        const cleanFlagged = generated.attributes
          .slice(0, nClean)
          .filter((a, i) => a.sex === row.group && result.images.nearCopy[i]).length;
        const copies = sources.filter((_, k) => generated.attributes[nClean + k].sex === row.group);
        expect(row.nearCopies).toBe(cleanFlagged + copies.length);
        expect(row.n).toBe(generated.attributes.filter((a) => a.sex === row.group).length);
        expect(Math.abs(row.nullShare.estimate - level)).toBeLessThan(level / 2);
        expect(row.share.lower).toBeLessThanOrEqual(row.share.estimate);
        expect(row.share.method).toBe("wilson");
      }
      // Pairs: copies, shown beside their source as magnified PNGs of the same pixels.
      expect(result.pairs).toHaveLength(8);
      for (const pair of result.pairs) {
        const k = pair.generatedIndex - nClean;
        expect(pair.trainingIndex).toBe(sources[k]);
        expect(pair.scale).toBe(16);
        const png = decodeImage(Buffer.from(pair.generatedPng, "base64"), "pair", 1);
        expect([png.width, png.height]).toEqual([SIDE * 16, SIDE * 16]);
        const source = (generated.images as RasterImage[])[pair.generatedIndex];
        expect(png.data[(16 * SIDE + 1) * 16]).toBeCloseTo(source.data[SIDE + 1], 2);
        expect(pair.trainingPng).toBe(pair.generatedPng);
      }
    },
  );

  test("an image whose group has no reference is unscored and noted; bad options refused", async () => {
    const rng = createRng(5);
    const training = independentDraws(100, rng);
    const heldOut = independentDraws(200, rng);
    const generated = independentDraws(30, rng);
    generated.set.attributes[3] = { sex: "C" };
    const sex = defineAttribute("sex", ["A", "B", "C"]);
    const options = {
      generated: generated.set,
      training: training.set,
      heldOut: heldOut.set,
      attributes: [sex],
      features: {
        info: SYNTHETIC_INFO,
        generated: { values: generated.features, dimension: DIMENSION },
        training: { values: training.features, dimension: DIMENSION },
        heldOut: { values: heldOut.features, dimension: DIMENSION },
      },
    };
    const result = await auditMemorisation(options);
    expect(result.images.features.ratio[3]).toBeNaN();
    expect(result.images.nearCopy[3]).toBe(false);
    expect(result.overall.unscored).toBe(1);
    expect(result.byAttribute[0].groups[2]).toMatchObject({ group: "C", n: 0, unscored: 1 });
    expect(result.notes.join("\n")).toMatch(/1 generated image\(s\) of \{sex=C\} unscored/);

    await expect(auditMemorisation({ ...options, level: 1.5 })).rejects.toThrow(
      /level must be in \(0, 1\), got 1.5/,
    );
    await expect(auditMemorisation({ ...options, pairs: -1 })).rejects.toThrow(
      /pairs must be an integer ≥ 0, got -1/,
    );
    await expect(
      auditMemorisation({
        ...options,
        features: { ...options.features, training: { values: new Float64Array(6), dimension: 6 } },
      }),
    ).rejects.toThrow(/features.training has 6 values of dimension 6; expected 100 images × 6/);
    await expect(auditMemorisation({ ...options, attributes: ["race"] })).rejects.toThrow(
      /attributes: "race" has 0 group\(s\)/,
    );
  });

  test("the near-copy thresholds share the level between spaces by how they agree", () => {
    const rng = createRng(9);
    const m = 4000;
    const a = Array.from({ length: m }, () => rng.next());
    const b = Array.from({ length: m }, () => rng.next());
    // One space twice: the union is that space, so its quantile is the level itself.
    const same = calibrateNearCopyThresholds({ features: a, pixels: a }, 0.05);
    expect(same.quantile).toBeCloseTo(0.05, 3);
    expect(same.flagged).toBe(Math.floor(0.05 * m));
    // Independent spaces: ≈ 1 − √0.95 = 0.0253 each.
    const independent = calibrateNearCopyThresholds({ features: a, pixels: b }, 0.05);
    expect(independent.quantile).toBeCloseTo(1 - Math.sqrt(0.95), 2);
    expect(independent.flagged).toBeLessThanOrEqual(0.05 * m);
    // A query NaN in both spaces is not part of the null.
    const withNaN = calibrateNearCopyThresholds(
      { features: [...a, NaN], pixels: [...a, NaN] },
      0.05,
    );
    expect(withNaN.queries).toBe(m);
  });
});

/** A mutable plain copy of a result's JSON; `any` lets the tests reach into any path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe("the report section", () => {
  async function resultWithUnscoredImage(): Promise<MemorisationAudit> {
    const rng = createRng(6);
    const training = independentDraws(100, rng);
    const heldOut = independentDraws(200, rng);
    const generated = withCopies(independentDraws(30, rng), training, [4, 7]);
    generated.set.attributes[0] = {}; // no known group: compared with every image
    generated.set.attributes[1] = { sex: "C" }; // no reference at all: unscored (NaN, ∞)
    return auditMemorisation({
      generated: generated.set,
      training: training.set,
      heldOut: heldOut.set,
      attributes: [defineAttribute("sex", ["A", "B", "C"])],
      features: {
        info: SYNTHETIC_INFO,
        generated: { values: generated.features, dimension: DIMENSION },
        training: { values: training.features, dimension: DIMENSION },
        heldOut: { values: heldOut.features, dimension: DIMENSION },
      },
      pairs: 3,
    });
  }

  test("JSON round trip through the validator; a broken field is named by its path", async () => {
    const result = await resultWithUnscoredImage();
    expect(result.images.pixels.trainingDistance[1]).toBe(Infinity);
    const json = () => JSON.parse(JSON.stringify(toJsonValue(result))) as Json;
    expect(parseMemorisationAudit(json(), "memorisation")).toEqual(result);

    const broken = (edit: (o: Json) => void) => {
      const o = json();
      edit(o);
      return () => parseMemorisationAudit(o, "memorisation");
    };
    expect(broken((o) => (o.calibration.thresholds.pixels = "low"))).toThrow(
      'audit report: memorisation.calibration.thresholds.pixels should be a number, got "low"',
    );
    expect(broken((o) => delete o.byAttribute[0].groups[1].nullShare)).toThrow(
      'missing field "memorisation.byAttribute[0].groups[1].nullShare"',
    );
    expect(broken((o) => (o.pairs[0].generatedPng = '" onerror="alert(1)'))).toThrow(
      /memorisation\.pairs\[0\]\.generatedPng should be base64 PNG data/,
    );
    expect(broken((o) => o.images.nearCopy.pop())).toThrow(
      /memorisation\.images\.nearCopy has 31 entries for 32 generated images/,
    );
    expect(broken((o) => (o.pairs[1].space = "latents"))).toThrow(
      /memorisation\.pairs\[1\]\.space should be one of "features", "pixels"/,
    );
  });

  test("HTML: a table per attribute, the pairs as inline PNGs, escaped text, nothing external", async () => {
    const result = await resultWithUnscoredImage();
    result.byAttribute[0].groups[0].group = "<script>x</script>";
    const html = memorisationHtml(result);
    expect(result.pairs).toHaveLength(3);
    for (const pair of result.pairs) {
      expect(html).toContain(`src="data:image/png;base64,${pair.generatedPng}"`);
      expect(html).toContain(`src="data:image/png;base64,${pair.trainingPng}"`);
    }
    expect(html).not.toMatch(/https?:|src="\/\/|url\(/);
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(html.match(/<table>/g)).toHaveLength(1);
    const markdown = memorisationMarkdown(result);
    expect(markdown).toContain("| group | n | near-copies | share [CI] |");
    expect(markdown).toContain(`| #${result.pairs[0].generatedIndex} |`);
    expect(markdown).not.toContain("<script>");
  });
});

describe("inside an audit report", () => {
  test("saved, loaded, rendered as HTML, Markdown and text, and read by the lab's renderer", async () => {
    const rng = createRng(8);
    const training = independentDraws(100, rng);
    const generated = withCopies(independentDraws(40, rng), training, [3, 9]);
    const heldOut = independentDraws(200, rng);
    const memorisation = {
      ...(await auditMemorisation({
        generated: generated.set,
        training: training.set,
        heldOut: heldOut.set,
        attributes: ["sex"],
        features: {
          info: SYNTHETIC_INFO,
          generated: { values: generated.features, dimension: DIMENSION },
          training: { values: training.features, dimension: DIMENSION },
          heldOut: { values: heldOut.features, dimension: DIMENSION },
        },
        pairs: 2,
      })),
      trainingDescription: "the 100 synthetic training images",
    };
    const input = fixtureInput();
    const report = AuditReport.create({ ...input, quality: { ...input.quality!, memorisation } });
    const loaded = AuditReport.fromJSON(JSON.parse(JSON.stringify(report.toJSON())));
    expect(loaded.quality?.memorisation).toEqual(report.quality?.memorisation);

    const html = report.toHTML();
    expect(html).toContain("Memorisation: near-copies of training images");
    expect(html).toContain("Training images: the 100 synthetic training images.");
    for (const pair of memorisation.pairs) expect(html).toContain(pair.trainingPng);
    expect(report.toMarkdown()).toContain("## Memorisation: near-copies of training images");
    expect(report.toString()).toContain(
      `near-copies of training images: ${memorisation.overall.nearCopies} of ${memorisation.overall.n}`,
    );

    const read = readAuditReport(JSON.parse(JSON.stringify(report.toJSON())));
    expect(read.memorisation?.overall?.nearCopies).toBe(memorisation.overall.nearCopies);
    expect(read.memorisation?.byAttribute[0].groups.map((g) => g.group)).toEqual(
      memorisation.byAttribute[0].groups.map((g) => g.group),
    );
    expect(read.memorisation?.pairs.map((p) => p.generatedPng)).toEqual(
      memorisation.pairs.map((p) => p.generatedPng),
    );
    // A PNG field that is not base64 is dropped, never put into an <img src>.
    const hostile = JSON.parse(JSON.stringify(report.toJSON()));
    hostile.quality.memorisation.pairs[0].generatedPng = 'x" onerror="alert(1)';
    expect(readAuditReport(hostile).memorisation?.pairs).toHaveLength(1);
  });
});

describe("cxr-mini: its own training images planted among its generations", () => {
  const preset = trainingPreset("cxr-mini");
  const TRAINING = preset.cohortSize; // all 4000
  const HELD_OUT = 1000;
  const CLEAN_PER_CELL = 20; // × 6 sex × race cells
  const EXACT = 30;
  const NOISY = 30;
  const NOISE_SIGMA = 0.01; // 2.5 grey levels of 255

  let model: LatentDiffusionModel;
  beforeAll(async () => {
    await useBackend("wasm");
    model = LatentDiffusionModel.load(MODEL);
  });
  afterAll(() => model.dispose());

  test("planted copies flagged in their own group (recall ≥ 0.95), clean generations ≤ 5 %", async () => {
    const cohort = createSyntheticCohort({
      cohort: preset.cohort,
      size: preset.cohortSize,
      seed: preset.cohortSeed,
      imageSize: preset.model.imageSize,
      mix: preset.mix,
    });
    const trainingSamples = Array.from({ length: TRAINING }, (_, i) => cohort.sampleAt(i));
    const training = labelledImagesFromSamples(trainingSamples);
    const heldOut = labelledImagesFromSamples(
      heldOutRealSamples(preset, { size: HELD_OUT, seed: 99 }),
    );

    // Clean generations: every sex × race cell alike, half with the finding.
    const sex = defineAttribute("sex", ["Female", "Male"]);
    const race = defineAttribute("race", ["Asian", "Black", "White"]);
    const prompts: string[] = [];
    for (const s of sex.groups) {
      for (const r of race.groups) {
        for (let k = 0; k < CLEAN_PER_CELL; k++) {
          prompts.push(
            chestFindingsPrompt({
              sex: s,
              race: r,
              findings: k % 2 === 0 ? ["Pleural Effusion"] : [],
            }),
          );
        }
      }
    }
    const images = await generateImages(model, prompts, { seed: 3, steps: 10, batchSize: 60 });
    const clean = labelledImagesFromPrompts(
      rastersFromBatch(Float32Array.from(await images.data()), images.shape),
      prompts,
      [sex, race],
      [],
    );
    images.dispose();

    // Planted: distinct training images, seeded; exact copies then noisy copies.
    const rng = createRng(22);
    const sources = rng
      .shuffle(Array.from({ length: TRAINING }, (_, i) => i))
      .slice(0, EXACT + NOISY);
    const planted = sources.map((s, k) =>
      k < EXACT ? trainingSamples[s].image : noisyCopy(trainingSamples[s].image, NOISE_SIGMA, rng),
    );
    const nClean = prompts.length;
    const generated: LabelledImages = {
      images: [...(clean.images as RasterImage[]), ...planted],
      attributes: [
        ...clean.attributes,
        ...sources.map((s) => ({
          sex: trainingSamples[s].attributes.sex,
          race: trainingSamples[s].attributes.race,
        })),
      ],
      labels: [...clean.labels, ...sources.map(() => ({}))],
    };

    const result = await auditMemorisation({
      generated,
      training,
      heldOut,
      attributes: [sex, race],
    });

    const plantedRows = sources.map((_, k) => nClean + k);
    const recall = plantedRows.filter((i) => result.images.nearCopy[i]).length / plantedRows.length;
    const cleanFlags = result.images.nearCopy.slice(0, nClean).filter(Boolean).length;
    const falsePositiveRate = cleanFlags / nClean;
    // Measured: 60 / 60 planted flagged, 0 / 120 clean (docs/memorisation.md).
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(falsePositiveRate).toBeLessThanOrEqual(0.05);
    expect(result.calibration.flagged).toBeLessThanOrEqual(0.05 * result.calibration.queries);

    // Each exact copy's nearest same-group training image is its source, at distance 0.
    plantedRows.slice(0, EXACT).forEach((i, k) => {
      expect(result.images.pixels.nearestTraining[i]).toBe(sources[k]);
      expect(result.images.pixels.trainingDistance[i]).toBe(0);
      expect(result.images.features.ratio[i]).toBe(0);
    });
    // The per-group tables count each flagged image in its own group, and nowhere else.
    for (const table of result.byAttribute) {
      for (const row of table.groups) {
        expect(row.nearCopies).toBe(flaggedByGroup(result, generated, table.attribute, row.group));
        const plantedHere = plantedRows.filter(
          (i) => generated.attributes[i][table.attribute] === row.group,
        );
        const plantedFlagged = plantedHere.filter((i) => result.images.nearCopy[i]).length;
        expect(row.nearCopies).toBeGreaterThanOrEqual(plantedFlagged);
        expect(row.n).toBe(
          generated.attributes.filter((a) => a[table.attribute] === row.group).length,
        );
      }
    }
    // The report's pairs are the exact copies first, beside their own source image.
    expect(result.pairs).toHaveLength(8);
    for (const pair of result.pairs) {
      const k = pair.generatedIndex - nClean;
      expect(k).toBeGreaterThanOrEqual(0);
      expect(pair.trainingIndex).toBe(sources[k]);
      expect(pair.nearCopy).toBe(true);
    }
  }, 60000);
});
