/**
 * Each feature extractor tells distributions apart: real chest radiographs against a second
 * draw of the same cohort give a far smaller FID than against corrupted radiographs (inverted;
 * blurred, for the extractors that see fine detail) or a different modality (dermoscopy images
 * in grayscale). Runs the audit on pre-generated sets.
 */
import * as path from "node:path";
import { auditQuality, heldOutRealSamples, labelledImagesFromSamples } from "../../src/audit";
import { useBackend } from "../../src/backend";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import {
  defaultFeatureExtractor,
  graphModelExtractor,
  radiomicExtractor,
  type FeatureExtractor,
} from "../../src/features";
import { toGrayscale, type RasterImage } from "../../src/io/rasterImage";
import { CXR_MINI } from "../../src/pipeline/presets";

const N = 48;

/** 3×3 box blur (edges averaged over the pixels inside the image). */
function blurred(image: RasterImage): RasterImage {
  const { width: w, height: h, data } = image;
  const out = new Float32Array(data.length);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      let sum = 0;
      let count = 0;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr;
          const cc = c + dc;
          if (rr >= 0 && rr < h && cc >= 0 && cc < w) {
            sum += data[rr * w + cc];
            count += 1;
          }
        }
      }
      out[r * w + c] = sum / count;
    }
  }
  return { ...image, data: out };
}

const real = labelledImagesFromSamples(heldOutRealSamples(CXR_MINI, { size: N, seed: 101 }));
const sameDistribution = labelledImagesFromSamples(
  heldOutRealSamples(CXR_MINI, { size: N, seed: 102 }),
);
const blur = {
  ...sameDistribution,
  images: (sameDistribution.images as RasterImage[]).map(blurred),
};
const inverted = {
  ...sameDistribution,
  images: (sameDistribution.images as RasterImage[]).map((image) => ({
    ...image,
    data: image.data.map((v) => 1 - v),
  })),
};
const derm = createSyntheticCohort({ cohort: "derm", size: N, seed: 3 });
const otherModality = {
  ...sameDistribution,
  images: derm.records.map((_, i) => toGrayscale(derm.sampleAt(i).image)),
};

/** name, factory, and whether it sees fine detail (the graph-model fixture sees 4×4 pixels). */
const extractors: [string, () => Promise<FeatureExtractor>, boolean][] = [
  ["project encoder", async () => defaultFeatureExtractor(), true],
  ["radiomic", async () => radiomicExtractor(), true],
  [
    "graph model (fixture, images resized to 4×4)",
    () => graphModelExtractor(path.join(__dirname, "../fixtures/graph-model"), { inputSize: 4 }),
    false,
  ],
];

beforeAll(async () => {
  await useBackend("wasm");
});

describe.each(extractors)("%s", (_, make, seesDetail) => {
  test("FID(real, same distribution) is far below FID(real, corrupted) and FID(real, other modality)", async () => {
    const extractor = await make();
    const fid = async (generated: typeof real) =>
      (await auditQuality(null, { real, generated, seed: 1, extractor, minGroupImages: 2 })).overall
        .value;
    const same = await fid(sameDistribution);
    const invertedFid = await fid(inverted);
    const blurredFid = await fid(blur);
    const modality = await fid(otherModality);
    extractor.dispose();
    console.log(
      `${extractor.info.name} (n = ${N}): same ${same.toPrecision(4)}, inverted ${invertedFid.toPrecision(4)}, ` +
        `blurred ${blurredFid.toPrecision(4)}, other modality ${modality.toPrecision(4)}`,
    );
    expect(same).toBeGreaterThanOrEqual(0);
    expect(invertedFid).toBeGreaterThan(5 * same);
    expect(modality).toBeGreaterThan(5 * same);
    if (seesDetail) expect(blurredFid).toBeGreaterThan(5 * same);
  });
});
