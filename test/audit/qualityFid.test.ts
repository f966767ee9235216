/**
 * The quality audit's arithmetic on image sets whose FIDs can be worked out by hand: images of
 * constant intensity and a one-number extractor (the mean intensity), so every FID is the 1-D
 * Fréchet distance (μ₁ − μ₂)² + (σ₁ − σ₂)², and every KID the 1-D estimator with k(x, y) =
 * (xy + 1)³. Checks per-group FID and KID, intersections, ES-FID, groups too small for a figure,
 * equal group sizes, the bootstrap, turning KID off, and bad input.
 */
import * as tf from "@tensorflow/tfjs-core";
import { auditQuality, fidOfRows, statisticsOfRows, type LabelledImages } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { frechetDistance } from "../../src/fairness/frechetDistance";
import type { FeatureExtractor } from "../../src/features";
import { createRaster, type RasterImage } from "../../src/io/rasterImage";
import { createRng } from "../../src/util/random";

/** A real, if tiny, extractor: one feature, the image's mean intensity. */
function meanIntensity(): FeatureExtractor {
  return {
    info: {
      name: "mean-intensity",
      kind: "radiomic",
      dimension: 1,
      description: "mean pixel value",
    },
    async extract(images: tf.Tensor4D): Promise<Float64Array> {
      const means = tf.mean(images, [1, 2, 3]);
      const out = Float64Array.from(await means.data());
      means.dispose();
      return out;
    },
    dispose() {},
  };
}

function flat(value: number): RasterImage {
  return createRaster(4, 4, 1, value);
}

/** Images of the given intensities, all in group `group` of "site". */
function set(groups: Record<string, number[]>): LabelledImages {
  const entries = Object.entries(groups).flatMap(([g, values]) =>
    values.map((v) => [g, v] as const),
  );
  return {
    images: entries.map(([, v]) => flat(v)),
    attributes: entries.map(([g]) => ({ site: g })),
    labels: entries.map(() => ({})),
  };
}

/** 1-D FD with N−1 variances. */
function fd1(a: number[], b: number[]): number {
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const sd = (x: number[]) => {
    const m = mean(x);
    return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1));
  };
  return (mean(a) - mean(b)) ** 2 + (sd(a) - sd(b)) ** 2;
}

/** Images with several attributes each: [attributes, intensity]. */
function labelled(entries: [Record<string, string>, number][]): LabelledImages {
  return {
    images: entries.map(([, v]) => flat(v)),
    attributes: entries.map(([a]) => a),
    labels: entries.map(() => ({})),
  };
}

/** Unbiased MMD² of 1-D samples under k(x, y) = (xy + 1)³, written out. */
function kid1(a: number[], b: number[]): number {
  const k = (x: number, y: number) => (x * y + 1) ** 3;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  a.forEach((x, i) => a.forEach((y, j) => (aa += i === j ? 0 : k(x, y))));
  b.forEach((x, i) => b.forEach((y, j) => (bb += i === j ? 0 : k(x, y))));
  a.forEach((x) => b.forEach((y) => (ab += k(x, y))));
  const m = a.length;
  const n = b.length;
  return aa / (m * (m - 1)) + bb / (n * (n - 1)) - (2 * ab) / (m * n);
}

beforeAll(async () => {
  await useBackend("wasm");
});

test("per-group FID and ES-FID equal the hand-computed 1-D Fréchet distances", async () => {
  const generated = { A: [0.1, 0.3, 0.2], B: [0.6, 0.9, 0.7, 0.8] };
  const real = { A: [0.2, 0.4, 0.3], B: [0.5, 0.6, 0.55, 0.7] };
  const audit = await auditQuality(null, {
    real: set(real),
    generated: set(generated),
    seed: 1,
    extractor: meanIntensity(),
    minGroupImages: 2,
  });
  const allG = [...generated.A, ...generated.B];
  const allR = [...real.A, ...real.B];
  const overall = fd1(allG, allR);
  expect(audit.extractor.name).toBe("mean-intensity");
  expect(audit.overall.value).toBeCloseTo(overall, 5);
  expect(audit.overall).toMatchObject({ nGenerated: 7, nReal: 7 });
  const [site] = audit.byAttribute;
  expect(site.attribute).toBe("site");
  expect(site.groups).toEqual(["A", "B"]);
  const fidA = fd1(generated.A, real.A);
  const fidB = fd1(generated.B, real.B);
  expect(site.perGroup[0].value).toBeCloseTo(fidA, 5);
  expect(site.perGroup[1].value).toBeCloseTo(fidB, 5);
  expect(site.perGroup[1]).toMatchObject({ nGenerated: 4, nReal: 4 });
  expect(site.esFid).toBeCloseTo(overall + Math.abs(fidA - overall) + Math.abs(fidB - overall), 5);
  expect(site.esFid).toBeGreaterThanOrEqual(audit.overall.value);
});

test("a group below minGroupImages gets NaN and a note; ES-FID uses the rest", async () => {
  const audit = await auditQuality(null, {
    real: set({ A: [0.1, 0.2, 0.3, 0.4], B: [0.5, 0.6, 0.7, 0.8], C: [0.9] }),
    generated: set({ A: [0.2, 0.3, 0.1, 0.4], B: [0.6, 0.7, 0.5, 0.9], C: [0.8, 0.9] }),
    seed: 1,
    extractor: meanIntensity(),
    minGroupImages: 3,
  });
  const [site] = audit.byAttribute;
  expect(site.groups).toEqual(["A", "B", "C"]);
  expect(site.perGroup[2]).toEqual({ value: NaN, nGenerated: 2, nReal: 1 });
  expect(site.notes.join("\n")).toMatch(/site = C: 2 generated and 1 real images, fewer than 3/);
  expect(site.notes.join("\n")).toMatch(/ES-FID over the 2 groups with a figure/);
  const [a, b] = site.perGroup.map((f) => f.value);
  const fid = audit.overall.value;
  expect(site.esFid).toBeCloseTo(fid + Math.abs(a - fid) + Math.abs(b - fid), 10);
});

test("equalGroupSizes subsamples each group to the smallest, seeded", async () => {
  const rng = createRng(4);
  const values = (n: number, shift: number) =>
    Array.from({ length: n }, () => shift + 0.1 * rng.next());
  const real = set({ big: values(30, 0.2), small: values(6, 0.5) });
  const generated = set({ big: values(30, 0.25), small: values(6, 0.45) });
  const options = { real, generated, seed: 9, extractor: meanIntensity(), minGroupImages: 2 };
  const plain = await auditQuality(null, options);
  expect(plain.byAttribute[0].notes.join("\n")).toMatch(/group sizes differ \(30, 6 real images\)/);
  const equal = await auditQuality(null, { ...options, equalGroupSizes: true });
  const again = await auditQuality(null, { ...options, equalGroupSizes: true });
  expect(equal.byAttribute[0].perGroup.map((f) => [f.nGenerated, f.nReal])).toEqual([
    [6, 6],
    [6, 6],
  ]);
  expect(equal.byAttribute[0].notes.join("\n")).toMatch(/subsampled to 6 generated and 6 real/);
  expect(again.byAttribute).toEqual(equal.byAttribute);
  // The small group is untouched; the big one's figure now rests on 6 of its 30 images.
  expect(equal.byAttribute[0].perGroup[1].value).toBe(plain.byAttribute[0].perGroup[1].value);
  expect(equal.byAttribute[0].perGroup[0].value).not.toBe(plain.byAttribute[0].perGroup[0].value);
});

test("fidOfRows is the Fréchet distance of the chosen rows; the bootstrap is seeded", () => {
  const rng = createRng(2);
  const d = 3;
  const make = (n: number, shift: number) => ({
    values: Float64Array.from({ length: n * d }, () => rng.normal() + shift),
    dimension: d,
  });
  const g = make(40, 0.5);
  const r = make(50, 0);
  const rowsG = [0, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
  const rowsR = Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 3 !== 0);
  const pick = (m: { values: Float64Array }, rows: number[]) =>
    Float64Array.from(rows.flatMap((i) => Array.from(m.values.subarray(i * d, (i + 1) * d))));
  const direct = frechetDistance(
    statisticsOfRows({ values: pick(g, rowsG), dimension: d }),
    statisticsOfRows({ values: pick(r, rowsR), dimension: d }),
  ).distance;
  const bootstrap = { resamples: 60, seed: 5 };
  const figure = fidOfRows(g, rowsG, r, rowsR, bootstrap);
  expect(figure.value).toBeCloseTo(direct, 12);
  expect(figure).toMatchObject({ nGenerated: rowsG.length, nReal: rowsR.length });
  expect(figure.interval).toMatchObject({
    level: 0.95,
    resamples: 60,
    seed: 5,
    n: 12 + rowsR.length,
  });
  expect(figure.interval!.lower).toBeLessThan(figure.interval!.upper);
  expect(figure.interval!.method).toMatch(/^basic-bootstrap/);
  expect(fidOfRows(g, rowsG, r, rowsR, bootstrap).interval).toEqual(figure.interval);
  expect(fidOfRows(g, rowsG, r, rowsR, { ...bootstrap, seed: 6 }).interval).not.toEqual(
    figure.interval,
  );
  expect(() => fidOfRows(g, rowsG, r, rowsR, { resamples: 0, seed: 1 })).toThrow(/resamples/);
});

test("bad input is named", async () => {
  const real = set({ A: [0.1, 0.2], B: [0.3, 0.4] });
  const extractor = meanIntensity();
  await expect(auditQuality(null, { real, seed: 1, extractor })).rejects.toThrow(
    /needs a model unless options.generated is given/,
  );
  await expect(
    auditQuality(null, {
      real,
      generated: set({ A: [0.1, 0.2] }),
      seed: 1,
      extractor,
      minGroupImages: 1,
    }),
  ).rejects.toThrow(/minGroupImages must be an integer ≥ 2, got 1/);
  const big = { ...set({ A: [0.1, 0.2] }), images: [createRaster(8, 8, 1), createRaster(8, 8, 1)] };
  await expect(auditQuality(null, { real, generated: big, seed: 1, extractor })).rejects.toThrow(
    /generated images are 8×8×1, real images 4×4×1/,
  );
  await expect(
    auditQuality(null, { real: { ...real, labels: [] }, generated: real, seed: 1, extractor }),
  ).rejects.toThrow(/real images has 4 images but 0 label entries/);
  await expect(
    auditQuality(null, { real, generated: real, seed: 1, extractor, attributes: ["sex"] }),
  ).rejects.toThrow(/attribute "sex" has 0 group\(s\) among the real images/);
  const claimsTwo = { ...meanIntensity(), info: { ...extractor.info, dimension: 2 } };
  await expect(
    auditQuality(null, { real, generated: real, seed: 1, extractor: claimsTwo }),
  ).rejects.toThrow(/extractor "mean-intensity" returned 4 values for 4 images; expected 4 × 2/);
});

test("the FID bootstrap interval covers the true distance ~95 % of the time (Gaussian data)", () => {
  // Two Gaussians in d = 4: means differ by 0.3 on axis 0, standard deviations 1 vs 1.3 on axis 1.
  // True FID = ‖Δμ‖² + Σ (σ₁ − σ₂)² = 0.09 + 0.09.
  const d = 4;
  const n = 80;
  const truth = 0.3 ** 2 + 0.3 ** 2;
  const experiments = 120;
  let hits = 0;
  let aboveEstimate = 0;
  const rows = Array.from({ length: n }, (_, i) => i);
  for (let e = 0; e < experiments; e++) {
    const rng = createRng(500 + e);
    const a = Float64Array.from({ length: n * d }, () => rng.normal());
    const b = Float64Array.from({ length: n * d }, (_, k) => {
      const axis = k % d;
      return rng.normal() * (axis === 1 ? 1.3 : 1) + (axis === 0 ? 0.3 : 0);
    });
    const figure = fidOfRows({ values: a, dimension: d }, rows, { values: b, dimension: d }, rows, {
      resamples: 150,
      seed: e,
    });
    if (figure.interval!.lower <= truth && truth <= figure.interval!.upper) hits++;
    if (figure.value > truth) aboveEstimate++;
  }
  const coverage = hits / experiments;
  console.log(
    `FID bootstrap coverage ${coverage} over ${experiments} experiments (estimate above the truth in ${aboveEstimate})`,
  );
  expect(aboveEstimate).toBeGreaterThan(experiments / 2); // the bias the interval must carry
  expect(coverage).toBeGreaterThanOrEqual(0.88);
  expect(coverage).toBeLessThanOrEqual(1);
});

test("KID beside every FID equals the hand-computed estimator, seeded; kid: false leaves it out", async () => {
  const generated = {
    A: [0.1, 0.3, 0.2, 0.15, 0.25],
    B: [0.6, 0.9, 0.7, 0.8],
    C: [0.5, 0.4, 0.45],
  };
  const real = { A: [0.2, 0.4, 0.3, 0.35, 0.45], B: [0.5, 0.6, 0.55, 0.7], C: [0.3, 0.2, 0.35] };
  const options = {
    real: set(real),
    generated: set(generated),
    seed: 1,
    extractor: meanIntensity(),
    minGroupImages: 2,
  };
  const audit = await auditQuality(null, options);
  const all = (sets: Record<string, number[]>) => Object.values(sets).flat();
  expect(audit.overallKid!.value).toBeCloseTo(kid1(all(generated), all(real)), 6);
  expect(audit.overallKid).toMatchObject({ nGenerated: 12, nReal: 12, subsets: 100 });
  expect(audit.overallKid!.interval).toMatchObject({ level: 0.95, resamples: 100, n: 24 });
  const [site] = audit.byAttribute;
  (["A", "B", "C"] as const).forEach((g, k) => {
    expect(site.perGroupKid![k].value).toBeCloseTo(kid1(generated[g], real[g]), 6);
  });
  // Group C has 3 images a side: a KID, but too few for half-samples of 2.
  expect(site.perGroupKid![0].interval).toBeDefined();
  expect(site.perGroupKid![2]).toMatchObject({ nGenerated: 3, nReal: 3, subsets: 0 });
  expect(site.perGroupKid![2].interval).toBeUndefined();
  expect(site.notes.join("\n")).toMatch(
    /site = C: fewer than 4 images on a side; KID without interval/,
  );
  // A different distribution reads higher than the closest one (A is shifted by 0.1, B by more).
  expect(site.perGroupKid![1].value).toBeGreaterThan(site.perGroupKid![0].value);

  expect(await auditQuality(null, options)).toMatchObject({
    overallKid: audit.overallKid,
    byAttribute: audit.byAttribute,
  });
  const tuned = await auditQuality(null, { ...options, kid: { subsets: 20, level: 0.8 } });
  expect(tuned.overallKid!.value).toBe(audit.overallKid!.value);
  expect(tuned.overallKid!.interval).toMatchObject({ level: 0.8, resamples: 20 });
  expect(tuned.byAttribute[0].perGroupKid![0].subsets).toBe(20);

  const off = await auditQuality(null, { ...options, kid: false });
  expect(off.overallKid).toBeUndefined();
  expect(off.byAttribute[0].perGroupKid).toBeUndefined();
  expect(off.byAttribute[0].perGroup).toEqual(site.perGroup);
  expect(off.byAttribute[0].notes.join("\n")).not.toMatch(/KID/);
});

test("intersections: FID, KID and ES-FID per site × sex group; unlabelled images left out", async () => {
  const cells: Record<string, { generated: number[]; real: number[] }> = {
    "A×F": { generated: [0.1, 0.15, 0.2], real: [0.12, 0.22, 0.3] },
    "A×M": { generated: [0.3, 0.35, 0.25, 0.3], real: [0.4, 0.3, 0.35] },
    "B×F": { generated: [0.6, 0.7], real: [0.5, 0.65, 0.55] },
    "B×M": { generated: [0.8, 0.9, 0.85], real: [0.7, 0.75, 0.95, 0.9] },
  };
  const side = (which: "generated" | "real") =>
    Object.entries(cells).flatMap(([cell, values]) => {
      const [site, sex] = cell.split("×");
      return values[which].map((v): [Record<string, string>, number] => [{ site, sex }, v]);
    });
  // A generated image whose prompt names the site but not the sex: in "site", not in "site×sex".
  const generated = labelled([...side("generated"), [{ site: "A" }, 0.5]]);
  const audit = await auditQuality(null, {
    real: labelled(side("real")),
    generated,
    seed: 2,
    extractor: meanIntensity(),
    minGroupImages: 2,
    intersections: [["site", "sex"]],
  });
  expect(audit.byAttribute.map((g) => g.attribute)).toEqual(["site", "sex", "site×sex"]);
  const joint = audit.byAttribute[2];
  expect(joint.groups).toEqual(["A×F", "A×M", "B×F", "B×M"]);
  joint.groups.forEach((group, k) => {
    const { generated: g, real: r } = cells[group];
    expect(joint.perGroup[k]).toMatchObject({ nGenerated: g.length, nReal: r.length });
    expect(joint.perGroup[k].value).toBeCloseTo(fd1(g, r), 5);
    expect(joint.perGroupKid![k].value).toBeCloseTo(kid1(g, r), 6);
  });
  const fid = audit.overall.value;
  const spread = joint.perGroup.reduce((sum, f) => sum + Math.abs(f.value - fid), 0);
  expect(joint.esFid).toBeCloseTo(fid + spread, 10);
  expect(audit.byAttribute[0].perGroup[0].nGenerated).toBe(3 + 4 + 1); // site A counts it
});

test("bad KID and intersection options are named before any feature is extracted", async () => {
  const real = set({ A: [0.1, 0.2, 0.3], B: [0.3, 0.4, 0.5] });
  let extracted = 0;
  const extractor = {
    ...meanIntensity(),
    async extract(images: tf.Tensor4D) {
      extracted += 1;
      return meanIntensity().extract(images);
    },
  };
  const base = { real, generated: real, seed: 1, extractor, minGroupImages: 2 };
  await expect(auditQuality(null, { ...base, kid: { subsets: 0 } })).rejects.toThrow(
    /kid\.subsets must be a positive integer, got 0/,
  );
  await expect(auditQuality(null, { ...base, kid: { level: 1 } })).rejects.toThrow(
    /kid\.level must be in \(0, 1\), got 1/,
  );
  await expect(auditQuality(null, { ...base, intersections: [["site"]] })).rejects.toThrow(
    /intersections\[0\] = \["site"\] must name two or more different attributes/,
  );
  await expect(
    auditQuality(null, { ...base, intersections: [["site", "colour"]] }),
  ).rejects.toThrow(/intersections\[0\] \(site×colour\): attribute "colour" has 0 group\(s\)/);
  expect(extracted).toBe(0);
});
