/**
 * Trains a subgroup classifier on real (or cohort) images: masked cross-entropy summed over
 * heads (a record without a label for a head does not train it), AdamW, then per-head
 * temperature on a calibration split and confusion matrices on a separate test split.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { MedicalSample } from "../data/medicalSample";
import { AdamW } from "../parallel/adamW";
import { EpochOrder } from "../pipeline/epochOrder";
import { classOf, type ClassificationTask } from "./classificationTask";
import { imagesToUnitTensor } from "./imageBatch";
import { SubgroupClassifier, type HeadEvaluation } from "./subgroupClassifier";
import {
  DEFAULT_CLASSIFIER_CHANNELS,
  SubgroupClassifierNetwork,
} from "./subgroupClassifierNetwork";
import { fitTemperature } from "./temperatureScaling";

export interface ClassifierTrainingOptions {
  tasks: ClassificationTask[];
  seed: number;
  channels?: number[];
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, loss: number) => void;
  provenance?: Record<string, unknown>;
}

export interface ClassifierSplits {
  train: MedicalSample[];
  /** Fits the temperatures. */
  calibration: MedicalSample[];
  /** Measures the confusion matrices (never seen in training or calibration). */
  test: MedicalSample[];
}

function labelMatrix(tasks: ClassificationTask[], samples: MedicalSample[]): Int32Array[] {
  return tasks.map((task) => Int32Array.from(samples.map((s) => classOf(task, s))));
}

function maskedCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, classes: number): tf.Scalar {
  return tf.tidy(() => {
    const mask = tf.tensor1d(Array.from(labels, (l) => (l >= 0 ? 1 : 0)));
    const targets = tf.oneHot(
      tf.tensor1d(
        Array.from(labels, (l) => Math.max(l, 0)),
        "int32",
      ),
      classes,
    );
    const perSample = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1));
    return tf.div(tf.sum(tf.mul(perSample, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

export async function trainSubgroupClassifier(
  splits: ClassifierSplits,
  options: ClassifierTrainingOptions,
): Promise<SubgroupClassifier> {
  const { train } = splits;
  if (train.length === 0) throw new Error("no training images for the classifier");
  const first = train[0].image;
  const config = {
    imageSize: first.width,
    imageChannels: first.channels,
    channels: options.channels ?? DEFAULT_CLASSIFIER_CHANNELS,
  };
  const network = new SubgroupClassifierNetwork(config, options.tasks, options.seed);
  const optimizer = new AdamW({
    learningRate: options.learningRate ?? 3e-3,
    weightDecay: 1e-4,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
  });
  const batchSize = options.batchSize ?? 64;
  const epochs = options.epochs ?? 8;
  const labels = labelMatrix(options.tasks, train);
  const order = new EpochOrder(train.length, options.seed);
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  const variables = network.trainableParameters();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      let total = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (options.signal?.aborted) throw new Error("classifier training aborted");
        const step = epoch * stepsPerEpoch + s;
        const indices = order.batchIndices(step, batchSize);
        const lr =
          (options.learningRate ?? 3e-3) *
          0.5 *
          (1 + Math.cos((Math.PI * step) / (epochs * stepsPerEpoch)));
        const { value, grads } = tf.variableGrads(() => {
          const images = imagesToUnitTensor(
            indices.map((i) => train[i].image),
            config,
          );
          const heads = network.logits(images);
          const losses = heads.map((logits, h) =>
            maskedCrossEntropy(
              logits,
              Int32Array.from(indices, (i) => labels[h][i]),
              options.tasks[h].classes.length,
            ),
          );
          return tf.addN(losses) as tf.Scalar;
        }, variables);
        optimizer.apply(
          variables,
          variables.map((v) => grads[v.name]),
          lr,
        );
        total += (await value.data())[0];
        tf.dispose([value, ...Object.values(grads)]);
      }
      options.onEpoch?.(epoch + 1, total / stepsPerEpoch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    optimizer.dispose();
  }
  const classifier = new SubgroupClassifier(
    network,
    options.tasks.map(() => 1),
    [],
    {
      ...options.provenance,
      trainImages: train.length,
      calibrationImages: splits.calibration.length,
      testImages: splits.test.length,
      seed: options.seed,
      epochs,
    },
  );
  if (splits.calibration.length > 0) {
    const logits = await classifier.logits(splits.calibration.map((s) => s.image));
    const calLabels = labelMatrix(options.tasks, splits.calibration);
    classifier.temperatures = options.tasks.map((task, h) => {
      const known = Array.from(calLabels[h].keys()).filter((i) => calLabels[h][i] >= 0);
      const k = task.classes.length;
      const rows = new Float32Array(known.length * k);
      known.forEach((i, r) => rows.set(logits[h].subarray(i * k, (i + 1) * k), r * k));
      return fitTemperature(
        rows,
        known.map((i) => calLabels[h][i]),
        k,
      );
    });
  }
  classifier.evaluation = await evaluateClassifier(classifier, splits.test);
  return classifier;
}

/** Confusion matrix and accuracies of every head on labelled images. */
export async function evaluateClassifier(
  classifier: SubgroupClassifier,
  samples: MedicalSample[],
): Promise<HeadEvaluation[]> {
  const predictions = await classifier.predict(samples.map((s) => s.image));
  return classifier.tasks.map((task, h) => {
    const k = task.classes.length;
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    let n = 0;
    samples.forEach((sample, i) => {
      const truth = classOf(task, sample);
      if (truth < 0) return;
      confusion[truth][predictions[h].predicted[i]] += 1;
      n += 1;
    });
    const correct = confusion.reduce((sum, row, i) => sum + row[i], 0);
    return {
      task: task.name,
      classes: task.classes,
      confusion,
      accuracy: n > 0 ? correct / n : Number.NaN,
      perClassAccuracy: confusion.map((row, i) => {
        const total = row.reduce((a, b) => a + b, 0);
        return total > 0 ? row[i] / total : Number.NaN;
      }),
      n,
      temperature: classifier.temperatures[h],
    };
  });
}
