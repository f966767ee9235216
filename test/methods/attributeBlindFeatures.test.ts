/**
 * The semantic term's attribute-blind features: the projection removes exactly what the targeted
 * heads read (their logit differences no longer depend on the projected features), keeps every
 * direction orthogonal to them, and the other heads' readings survive; an alignment step with
 * "classifier-blind" runs and frees what it made.
 */
import * as tf from "@tensorflow/tfjs-core";
import { alignmentLoss } from "../../src/methods/alignmentLoss";
import { attributeBlindProjection } from "../../src/methods/attributeBlindFeatures";
import { resolveAlignmentAttributes } from "../../src/methods/alignmentAttributes";
import { distributionalAlignment } from "../../src/methods/distributionalAlignment";
import { expectNoTensorLeak } from "../helpers/tensorLeaks";
import { alignmentOptions, alignmentTestBed, textModel } from "./fixtures";

const bed = alignmentTestBed();

/** Logits of head `h` minus their mean over classes, for features f [n, d]. */
function centredLogits(f: tf.Tensor2D, head: number): Float32Array {
  return tf.tidy(() => {
    const logits = tf.matMul(f, bed.classifier.network.headWeight(head));
    return tf.sub(logits, tf.mean(logits, 1, true)).dataSync() as Float32Array;
  });
}

test("the projection removes what the targeted heads read and nothing else", async () => {
  const d = bed.classifier.network.featureSize;
  const race = 1;
  const sex = 0;
  const projection = await attributeBlindProjection(bed.classifier, [race]);
  const features = tf.randomNormal([16, d], 0, 1, "float32", 3) as tf.Tensor2D;
  const blind = tf.matMul(features, projection) as tf.Tensor2D;

  // The race head's logit differences no longer see the features...
  const raceBlind = centredLogits(blind, race);
  expect(Math.max(...raceBlind.map(Math.abs))).toBeLessThan(1e-4);
  // ...while they did before, and the sex head still does.
  expect(Math.max(...centredLogits(features, race).map(Math.abs))).toBeGreaterThan(1e-2);
  expect(Math.max(...centredLogits(blind, sex).map(Math.abs))).toBeGreaterThan(1e-2);

  // P is a symmetric projection of rank d − (classes − 1).
  const p = projection.arraySync();
  let trace = 0;
  for (let i = 0; i < d; i++) {
    trace += p[i][i];
    for (let j = 0; j < d; j++) expect(p[i][j]).toBeCloseTo(p[j][i], 6);
  }
  expect(trace).toBeCloseTo(d - 2, 4);
  const twice = tf.matMul(projection, projection).dataSync();
  const once = projection.dataSync();
  for (let i = 0; i < once.length; i++) expect(twice[i]).toBeCloseTo(once[i], 5);

  // Two heads: the spans add up (sex 1 + race 2 directions).
  const both = await attributeBlindProjection(bed.classifier, [sex, race, race]);
  const diagonal = both.arraySync().reduce((s, row, i) => s + row[i], 0);
  expect(diagonal).toBeCloseTo(d - 3, 4);
  tf.dispose([projection, features, blind, both]);
});

test("classifier-blind semantic term: blind to a move along the targeted head, not along another", async () => {
  const [attribute] = resolveAlignmentAttributes(bed.classifier, {
    race: { Asian: 0.34, Black: 0.33, White: 0.33 },
  });
  const projection = await attributeBlindProjection(bed.classifier, [1]);
  const images = tf.randomUniform([2, 16, 16, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  /** A head's class-0-minus-class-1 weight direction, [1, d]. */
  const direction = (head: number) =>
    tf.tidy(() => {
      const w = bed.classifier.network.headWeight(head);
      const a = tf.slice(w, [0, 0], [-1, 1]);
      const b = tf.slice(w, [0, 1], [-1, 1]);
      return tf.reshape(tf.sub(a, b), [1, -1]);
    });
  /** The semantic term when the original image's features were moved by `shift`. */
  const semanticAfter = (shift: tf.Tensor) =>
    tf.tidy(() => {
      const moved = tf.add(bed.classifier.network.features(images), tf.mul(shift, 5));
      const original = tf.matMul(moved, projection) as tf.Tensor2D;
      const terms = alignmentLoss(images, {
        classifier: bed.classifier,
        attributes: [attribute],
        labels: [Int32Array.of(-1, -1)],
        semanticWeights: Float32Array.of(1, 1),
        originalFeatures: original,
        features: "classifier-blind",
        featureProjection: projection,
      });
      return terms.semantic.dataSync()[0];
    });
  const race = direction(1);
  const sex = direction(0);
  expect(semanticAfter(tf.zerosLike(race))).toBeCloseTo(0, 5);
  expect(semanticAfter(race)).toBeCloseTo(0, 5);
  expect(semanticAfter(sex)).toBeGreaterThan(1e-3);
  const none = tf.zeros([2, bed.classifier.network.featureSize]) as tf.Tensor2D;
  expect(() =>
    alignmentLoss(images, {
      classifier: bed.classifier,
      attributes: [attribute],
      labels: [Int32Array.of(-1, -1)],
      semanticWeights: Float32Array.of(1, 1),
      originalFeatures: none,
      features: "classifier-blind",
    }),
  ).toThrow(/projection/);
  tf.dispose([projection, images, race, sex, none]);
});

test("an alignment run with classifier-blind features steps and leaks nothing", async () => {
  const model = textModel();
  const run = distributionalAlignment(
    model,
    bed.classifier,
    alignmentOptions({
      steps: 6,
      target: () => ({ race: { Asian: 0.34, Black: 0.33, White: 0.33 } }),
      semanticFeatures: "classifier-blind",
    }),
  );
  const semantic: number[] = [];
  const nextStep = async () => {
    for (;;) {
      const { value, done } = await run.next();
      if (done) return;
      if (value.type === "step") {
        semantic.push(value.losses.semantic);
        return;
      }
    }
  };
  await expectNoTensorLeak(nextStep, { warmup: 2, steps: 3 });
  expect(semantic).toHaveLength(5);
  expect(semantic.every(Number.isFinite)).toBe(true);
  await run.return(undefined as never);
  model.dispose();
}, 120000);
