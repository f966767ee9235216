/**
 * The default feature extractor: the shipped cohort classifier read at its penultimate layer.
 * Its features are exactly what the heads read (the logits are a linear map of them), it loads
 * from the package's models/ folder whether run from src/ or dist/, and it checks image sizes.
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import { SubgroupClassifier } from "../../src/classifiers";
import { createSyntheticCohort } from "../../src/data/cohorts/syntheticCohort";
import {
  DEFAULT_ENCODER_NAME,
  defaultFeatureExtractor,
  packageRoot,
  projectEncoderExtractor,
  shippedModelPath,
} from "../../src/features";

const ROOT = path.resolve(__dirname, "../..");

beforeAll(async () => {
  await useBackend("wasm");
});

test("the package root is found from src/ and from a dist/ layout", () => {
  expect(packageRoot()).toBe(ROOT);
  expect(packageRoot(path.join(ROOT, "dist", "src", "features"))).toBe(ROOT);
  expect(shippedModelPath("cxr-classifier.fdckpt")).toBe(
    path.join(ROOT, "models", "cxr-classifier.fdckpt"),
  );
  expect(() => packageRoot("/")).toThrow(/no fairdiff package.json above \//);
});

test("features are the layer every head reads: logits = features · W + b", async () => {
  const cohort = createSyntheticCohort({ cohort: "cxr", size: 10, seed: 3 });
  const values = new Float32Array(10 * 32 * 32);
  cohort.records.forEach((_, i) => values.set(cohort.sampleAt(i).image.data, i * 32 * 32));
  const images = tf.tensor4d(values, [10, 32, 32, 1]);

  const extractor = defaultFeatureExtractor({ batchSize: 4 });
  expect(extractor.info).toMatchObject({
    name: DEFAULT_ENCODER_NAME,
    kind: "project-encoder",
    dimension: 64,
  });
  expect(extractor.info.description).toMatch(/Pleural Effusion/);
  const before = tf.memory().numTensors;
  const features = await extractor.extract(images);
  expect(tf.memory().numTensors).toBe(before);
  expect(features).toHaveLength(10 * 64);
  expect(features.every((v) => v >= 0)).toBe(true); // after ReLU
  expect(features.some((v) => v > 0)).toBe(true);

  // The sex head's logits from the classifier equal a linear map of these features.
  const classifier = SubgroupClassifier.load(shippedModelPath("cxr-classifier.fdckpt"));
  const logits = await classifier.logits(images);
  const sexHead = classifier.tasks.findIndex((t) => t.name === "sex");
  const weights = classifier.network.namedParameters();
  const w = weights.find(([name]) => name === `head${sexHead}.weight`)![1].dataSync();
  const b = weights.find(([name]) => name === `head${sexHead}.bias`)![1].dataSync();
  for (let i = 0; i < 10; i++) {
    for (let k = 0; k < 2; k++) {
      let s = b[k];
      for (let j = 0; j < 64; j++) s += features[i * 64 + j] * w[j * 2 + k];
      expect(logits[sexHead][i * 2 + k]).toBeCloseTo(s, 3);
    }
  }
  // Same features whatever the batch size.
  const wrapped = projectEncoderExtractor(classifier, { batchSize: 3 });
  expect(wrapped.info.name).toBe("fairdiff-cxr-classifier-penultimate");
  const again = await wrapped.extract(images);
  for (let i = 0; i < features.length; i++) expect(again[i]).toBeCloseTo(features[i], 5);

  const wrong = tf.zeros([1, 16, 16, 1]) as tf.Tensor4D;
  await expect(extractor.extract(wrong)).rejects.toThrow(
    /images are 16×16×1, the encoder needs 32×32×1/,
  );
  tf.dispose([images, wrong]);
  extractor.dispose();
  wrapped.dispose();
});
