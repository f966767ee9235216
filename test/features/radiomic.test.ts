/**
 * Radiomic features on images whose values can be worked out by hand: a constant image, a
 * checkerboard, a two-level image of known skew, scikit-image's documented GLCM example, and
 * foreground masks of known shape; then the extractor's batching, colour modes and errors.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  cooccurrenceMatrix,
  FIRST_ORDER_FEATURES,
  firstOrderFeatures,
  GLCM_FEATURES,
  glcmFeatures,
  glcmProperties,
  maskShapeFeatures,
  radiomicExtractor,
  radiomicFeatureNames,
  radiomicFeatures,
  RADIOMIC_FEATURES,
  SHAPE_FEATURES,
  shapeFeatures,
  type ImagePlane,
} from "../../src/features";

function plane(
  width: number,
  height: number,
  value: (row: number, col: number) => number,
): ImagePlane {
  const data = new Float64Array(width * height);
  for (let r = 0; r < height; r++)
    for (let c = 0; c < width; c++) data[r * width + c] = value(r, c);
  return { width, height, data };
}

function named(names: readonly string[], values: number[]): Record<string, number> {
  expect(values).toHaveLength(names.length);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

const constant = plane(8, 8, () => 0.5);
const checkerboard = plane(8, 8, (r, c) => (r + c) % 2);

beforeAll(async () => {
  await useBackend("wasm");
});

describe("first-order features", () => {
  it("a constant image has no spread, entropy 0 and uniformity 1", () => {
    const f = named(FIRST_ORDER_FEATURES, firstOrderFeatures(constant));
    expect(f.mean).toBe(0.5);
    expect(f.std).toBe(0);
    expect(f.skewness).toBe(0);
    expect(f.excessKurtosis).toBe(0);
    expect(f.entropy).toBe(0);
    expect(f.uniformity).toBe(1);
    expect(f.energy).toBeCloseTo(0.25, 15);
    for (const p of ["p10", "p25", "p50", "p75", "p90"]) expect(f[p]).toBe(0.5);
    expect(f.range).toBe(0);
  });

  it("a 0/1 checkerboard: mean ½, std ½, one bit of entropy, kurtosis −2", () => {
    const f = named(FIRST_ORDER_FEATURES, firstOrderFeatures(checkerboard));
    expect(f.mean).toBe(0.5);
    expect(f.std).toBeCloseTo(0.5, 15);
    expect(f.skewness).toBeCloseTo(0, 15);
    expect(f.excessKurtosis).toBeCloseTo(-2, 12);
    expect(f.entropy).toBeCloseTo(1, 15);
    expect(f.uniformity).toBeCloseTo(0.5, 15);
    expect(f.range).toBe(1);
  });

  it("a quarter of bright pixels gives the Bernoulli(¼) skew and kurtosis", () => {
    // 16 pixels, 4 at 1 and 12 at 0: skewness (1−2q)/√(q(1−q)), excess kurtosis (1−6q(1−q))/(q(1−q)).
    const q = 0.25;
    const image = plane(4, 4, (r) => (r === 0 ? 1 : 0));
    const f = named(FIRST_ORDER_FEATURES, firstOrderFeatures(image));
    expect(f.mean).toBe(q);
    expect(f.skewness).toBeCloseTo((1 - 2 * q) / Math.sqrt(q * (1 - q)), 12);
    expect(f.excessKurtosis).toBeCloseTo((1 - 6 * q * (1 - q)) / (q * (1 - q)), 12);
    expect(f.entropy).toBeCloseTo(-(q * Math.log2(q) + (1 - q) * Math.log2(1 - q)), 12);
    // numpy percentile of twelve 0s and four 1s: position 0.75·15 = 11.25 → 0.25.
    expect(f.p75).toBeCloseTo(0.25, 15);
    expect(f.p90).toBe(1);
    expect(f.p50).toBe(0);
    // The mirror image is skewed the other way.
    const mirrored = named(
      FIRST_ORDER_FEATURES,
      firstOrderFeatures(plane(4, 4, (r) => (r === 0 ? 0 : 1))),
    );
    expect(mirrored.skewness).toBeCloseTo(-f.skewness, 12);
  });
});

describe("GLCM texture", () => {
  it("matches scikit-image's documented graycomatrix example (made symmetric)", () => {
    // skimage.feature.graycomatrix docstring, levels=4, distance 1, angles 0, π/4, π/2, 3π/4.
    const image = [
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 2, 2, 2],
      [2, 2, 3, 3],
    ];
    const documented = [
      [
        [2, 2, 1, 0],
        [0, 2, 0, 0],
        [0, 0, 3, 1],
        [0, 0, 0, 1],
      ],
      [
        [1, 1, 3, 0],
        [0, 1, 1, 0],
        [0, 0, 0, 2],
        [0, 0, 0, 0],
      ],
      [
        [3, 0, 2, 0],
        [0, 2, 2, 0],
        [0, 0, 1, 2],
        [0, 0, 0, 0],
      ],
      [
        [2, 0, 0, 0],
        [1, 1, 2, 0],
        [0, 0, 2, 1],
        [0, 0, 0, 0],
      ],
    ];
    // Grey level l of 16 is the value (l + ½)/16.
    const p = plane(4, 4, (r, c) => (image[r][c] + 0.5) / 16);
    const steps = [
      [0, 1],
      [1, 1],
      [1, 0],
      [1, -1],
    ];
    steps.forEach(([dRow, dCol], a) => {
      const m = cooccurrenceMatrix(p, dRow, dCol);
      const counts = documented[a];
      let total = 0;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) total += counts[i][j] + counts[j][i];
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 16; j++) {
          const expected = i < 4 && j < 4 ? (counts[i][j] + counts[j][i]) / total : 0;
          expect(m[i * 16 + j]).toBeCloseTo(expected, 15);
        }
      }
    });
  });

  it("a constant image: contrast 0, dissimilarity 0, homogeneity 1, ASM 1, correlation 1", () => {
    const props = glcmProperties(cooccurrenceMatrix(constant, 0, 1));
    expect(props).toEqual({
      contrast: 0,
      dissimilarity: 0,
      homogeneity: 1,
      asm: 1,
      correlation: 1,
    });
    const f = named(GLCM_FEATURES, glcmFeatures(constant));
    expect(f.glcmContrastD1).toBe(0);
    expect(f.glcmHomogeneityD2).toBe(1);
  });

  it("a checkerboard has maximal contrast between side neighbours and none on diagonals", () => {
    const side = glcmProperties(cooccurrenceMatrix(checkerboard, 0, 1));
    expect(side.contrast).toBe(1);
    expect(side.dissimilarity).toBe(1);
    expect(side.correlation).toBeCloseTo(-1, 12);
    expect(side.homogeneity).toBeCloseTo(1 / (1 + 15 * 15), 15);
    const below = glcmProperties(cooccurrenceMatrix(checkerboard, 1, 0));
    expect(below.contrast).toBe(1);
    const diagonal = glcmProperties(cooccurrenceMatrix(checkerboard, 1, 1));
    expect(diagonal.contrast).toBe(0);
    expect(diagonal.correlation).toBeCloseTo(1, 12);
    const f = named(GLCM_FEATURES, glcmFeatures(checkerboard));
    expect(f.glcmContrastD1).toBeCloseTo(0.5, 15); // two of four angles at the maximum
    expect(f.glcmContrastD2).toBe(0); // every pixel two steps away has the same colour
    expect(f.glcmCorrelationD2).toBeCloseTo(1, 12);
    // Any other texture at distance 1 has lower contrast than the side neighbours of a checkerboard.
    const stripes = glcmProperties(
      cooccurrenceMatrix(
        plane(8, 8, (_, c) => (c % 4) / 3),
        0,
        1,
      ),
    );
    expect(stripes.contrast).toBeLessThan(side.contrast);
  });

  it("rejects an offset that does not fit the image", () => {
    expect(() =>
      cooccurrenceMatrix(
        plane(2, 2, () => 0),
        0,
        2,
      ),
    ).toThrow(/does not fit a 2×2 image/);
  });
});

describe("shape of the foreground mask", () => {
  it("a bright centred square: area ¼, perimeter ½, compactness π/4, no eccentricity", () => {
    const square = plane(8, 8, (r, c) => (r >= 2 && r < 6 && c >= 2 && c < 6 ? 0.9 : 0.1));
    const f = named(SHAPE_FEATURES, shapeFeatures(square));
    expect(f.areaFraction).toBe(0.25);
    expect(f.perimeter).toBe(16 / 32);
    expect(f.compactness).toBeCloseTo((4 * Math.PI * 16) / 256, 12);
    expect(f.centroidX).toBeCloseTo(0.5, 15);
    expect(f.centroidY).toBeCloseTo(0.5, 15);
    // Four pixel columns 1/8 apart: variance (4² − 1)/12 pixels² = 1.25/64.
    expect(f.momentXX).toBeCloseTo(1.25 / 64, 15);
    expect(f.momentYY).toBeCloseTo(1.25 / 64, 15);
    expect(f.momentXY).toBeCloseTo(0, 15);
    expect(f.eccentricity).toBeCloseTo(0, 7);
  });

  it("a 2×6 bar off-centre: centroid and eccentricity √(1 − 3/35)", () => {
    const mask = new Uint8Array(64);
    for (let r = 0; r < 2; r++) for (let c = 1; c < 7; c++) mask[r * 8 + c] = 1;
    const f = named(SHAPE_FEATURES, maskShapeFeatures(mask, 8, 8));
    expect(f.centroidX).toBeCloseTo(0.5, 15);
    expect(f.centroidY).toBeCloseTo(1 / 8, 15);
    // Uniform runs of k pixels have variance (k² − 1)/12: 35/12 along x, 3/12 along y.
    expect(f.eccentricity).toBeCloseTo(Math.sqrt(1 - 3 / 35), 12);
    expect(f.perimeter).toBe((2 * 6 + 2 * 2) / 32);
  });

  it("a constant image has no threshold and an empty mask", () => {
    expect(shapeFeatures(constant)).toEqual([0, 0, 0, 0.5, 0.5, 0, 0, 0, 0]);
  });
});

describe("radiomicExtractor", () => {
  it("32 named features per image, in order, batch rows independent of each other", async () => {
    const extractor = radiomicExtractor();
    expect(extractor.info).toMatchObject({ name: "radiomic-v1", kind: "radiomic", dimension: 32 });
    expect(RADIOMIC_FEATURES).toHaveLength(32);
    const images = tf.tensor4d(
      [...constant.data, ...checkerboard.data].map((v) => v),
      [2, 8, 8, 1],
    );
    const batch = await extractor.extract(images);
    const single = await extractor.extract(images.slice([1, 0, 0, 0], [1, -1, -1, -1]));
    images.dispose();
    expect(batch).toHaveLength(64);
    expect(Array.from(batch.subarray(0, 32))).toEqual(radiomicFeatures(constant));
    expect(Array.from(batch.subarray(32))).toEqual(Array.from(single));
  });

  it("luminance: an RGB image with equal channels gives the grayscale features", async () => {
    const gray = tf.tensor4d(
      Float32Array.from(checkerboard.data, (v) => 0.2 + 0.6 * v),
      [1, 8, 8, 1],
    );
    const rgb = tf.tile(gray, [1, 1, 1, 3]) as tf.Tensor4D;
    const a = await radiomicExtractor().extract(gray);
    const b = await radiomicExtractor().extract(rgb);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);
    const perChannel = radiomicExtractor({ colour: "per-channel", channels: 3 });
    expect(perChannel.info.dimension).toBe(96);
    expect(radiomicFeatureNames({ colour: "per-channel", channels: 3 })[32]).toBe("c1.mean");
    const c = await perChannel.extract(rgb);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 32; i++) expect(c[k * 32 + i]).toBeCloseTo(a[i], 6);
    }
    await expect(perChannel.extract(gray)).rejects.toThrow(
      /images have 1 channels, the extractor was made for 3/,
    );
    tf.dispose([gray, rgb]);
  });

  it("rejects bad input with the value in the message", async () => {
    expect(() => radiomicExtractor({ colour: "hsv" as never })).toThrow(/"hsv"/);
    const tiny = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    await expect(radiomicExtractor().extract(tiny)).rejects.toThrow(/at least 3×3 pixels.*2×2/);
    tiny.dispose();
    const flat = tf.zeros([4, 4]);
    await expect(radiomicExtractor().extract(flat as never)).rejects.toThrow(/\[4, 4\]/);
    flat.dispose();
  });
});
