/**
 * Method 1's preservation term: the untargeted attribute heads are found from the target, each
 * image's confident group from the original image is kept by a cross-entropy of the stated weight
 * (equal to a hand computation), and a run with it on reports the term inside the total.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  resolveAlignmentAttributes,
  untargetedAttributes,
} from "../../src/methods/alignmentAttributes";
import { confidentGroups } from "../../src/methods/alignmentBatchTargets";
import { alignmentLoss } from "../../src/methods/alignmentLoss";
import { alignmentOptions, alignmentTestBed, stepEvents, textModel } from "./fixtures";

const bed = alignmentTestBed();

test("the heads a target does not read are held; findings are not attributes", () => {
  const race = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  expect(untargetedAttributes(bed.classifier, race).map((a) => a.name)).toEqual(["sex"]);
  const both = resolveAlignmentAttributes(bed.classifier, {
    "sex×race": Object.fromEntries(
      ["Female", "Male"].flatMap((s) =>
        ["Asian", "Black", "White"].map((r) => [`${s}×${r}`, 1 / 6]),
      ),
    ),
  });
  expect(untargetedAttributes(bed.classifier, both)).toEqual([]);
});

test("confident groups: the arg-max where it is sure enough, −1 elsewhere", () => {
  const [sex] = untargetedAttributes(
    bed.classifier,
    resolveAlignmentAttributes(bed.classifier, { race: { Asian: 0.34, Black: 0.33, White: 0.33 } }),
  );
  // Heads in the classifier's order: sex (2), race (3), finding (2).
  const heads = [
    Float32Array.of(0.9, 0.1, 0.3, 0.7, 0.55, 0.45),
    new Float32Array(9).fill(1 / 3),
    new Float32Array(6).fill(0.5),
  ];
  expect(Array.from(confidentGroups([sex], heads, 3, 0.8)[0])).toEqual([0, -1, -1]);
  expect(Array.from(confidentGroups([sex], heads, 3, 0.5)[0])).toEqual([0, 1, 0]);
});

test("the preservation term is weight × the held heads' cross-entropy, inside the total", () => {
  const attributes = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const held = untargetedAttributes(bed.classifier, attributes);
  const images = tf.randomUniform([3, 16, 16, 1], 0, 1, "float32", 9) as tf.Tensor4D;
  const heldLabels = [Int32Array.of(1, -1, 0)];
  const terms = alignmentLoss(images, {
    classifier: bed.classifier,
    attributes,
    labels: [Int32Array.of(-1, -1, -1)],
    semanticWeights: new Float32Array(3),
    features: "classifier",
    held: { attributes: held, labels: heldLabels, weight: 2.5 },
  });
  // By hand: −(log p_sex(Male | x₀) + log p_sex(Female | x₂)) / 3 × 2.5, calibrated logits.
  const logp = tf.tidy(() =>
    tf
      .logSoftmax(tf.div(bed.classifier.network.logits(images)[0], bed.classifier.temperatures[0]))
      .arraySync(),
  ) as number[][];
  const expected = (-(logp[0][1] + logp[2][0]) / 3) * 2.5;
  expect(terms.preservation.dataSync()[0]).toBeCloseTo(expected, 5);
  expect(terms.fairness.dataSync()[0]).toBe(0);
  expect(terms.total.dataSync()[0]).toBeCloseTo(expected, 5);
  tf.dispose([images, terms.total, terms.fairness, terms.semantic, terms.preservation]);
});

test("a run with the preservation term reports it, and the total is the three terms", async () => {
  const model = textModel();
  const events = await bed.collect(
    model,
    alignmentOptions({
      target: () => ({ race: { Asian: 0.34, Black: 0.33, White: 0.33 } }),
      semanticWeight: 0,
      holdWeight: 1,
      threshold: 0,
    }),
  );
  for (const e of stepEvents(events)) {
    expect(e.losses.preservation).toBeGreaterThan(0);
    expect(e.losses.total).toBeCloseTo(
      e.losses.fairness + e.losses.semantic + e.losses.preservation,
      4,
    );
  }
  model.dispose();
});

test("the fairness weight scales the cross-entropy term alone", () => {
  const attributes = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const images = tf.randomUniform([3, 16, 16, 1], 0, 1, "float32", 4) as tf.Tensor4D;
  const terms = (fairnessWeight?: number) =>
    alignmentLoss(images, {
      classifier: bed.classifier,
      attributes,
      labels: [Int32Array.of(0, 2, -1)],
      fairnessWeight,
      semanticWeights: new Float32Array(3),
      features: "classifier",
    });
  const plain = terms();
  const scaled = terms(0.25);
  const off = terms(0);
  const [plainValue, scaledValue, offValue] = [plain, scaled, off].map(
    (t) => t.fairness.dataSync()[0],
  );
  expect(plainValue).toBeGreaterThan(0);
  expect(scaledValue).toBeCloseTo(plainValue * 0.25, 6);
  expect(offValue).toBe(0);
  expect(scaled.total.dataSync()[0]).toBeCloseTo(scaledValue, 6);
  for (const t of [plain, scaled, off]) tf.dispose(Object.values(t));
  images.dispose();
});

test('"images" semantic features: the weighted mean squared difference of the images themselves', () => {
  const attributes = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const images = tf.randomUniform([2, 16, 16, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const original = tf.randomUniform([2, 16, 16, 1], 0, 1, "float32", 6) as tf.Tensor4D;
  const originalFeatures = tf.reshape(original, [2, -1]) as tf.Tensor2D;
  const terms = alignmentLoss(images, {
    classifier: bed.classifier,
    attributes,
    labels: [Int32Array.of(-1, -1)],
    semanticWeights: Float32Array.of(3, 0.5),
    features: "images",
    originalFeatures,
  });
  // By hand: (3·mean((x₀ − x̃₀)²) + 0.5·mean((x₁ − x̃₁)²)) / 2 — brightness counts, unlike "pixels".
  const [a, b] = [images.arraySync(), original.arraySync()] as number[][][][][];
  const mse = (i: number) =>
    a[i].flat(2).reduce((sum, v, j) => sum + (v - b[i].flat(2)[j]) ** 2, 0) / 256;
  expect(terms.semantic.dataSync()[0]).toBeCloseTo((3 * mse(0) + 0.5 * mse(1)) / 2, 5);
  tf.dispose([images, original, originalFeatures, ...Object.values(terms)]);
});
