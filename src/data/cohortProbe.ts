/**
 * Learnability probe: trains a tiny multi-head CNN on a synthetic cohort and reports held-out
 * accuracy for every sensitive attribute and finding. It checks that the cohort's cues are
 * visible in the pixels (the done-when), and shows a class how easily a network reads
 * sensitive attributes from medical images. Not the project's subgroup classifier.
 */
import * as tf from "@tensorflow/tfjs-core";
import { createRng, type Rng } from "../util/random";
import type { CohortName } from "./cohorts/cohortDefinition";
import type { CohortMix } from "./cohorts/cohortMix";
import { createSyntheticCohort } from "./cohorts/syntheticCohort";
import type { MedicalSample } from "./medicalSample";

export interface ProbeOptions {
  cohort: CohortName;
  trainSize?: number;
  testSize?: number;
  epochs?: number;
  batchSize?: number;
  imageSize?: number;
  learningRate?: number;
  seed?: number;
  mix?: CohortMix;
  /** Stop training early once this many milliseconds have passed. */
  timeBudgetMs?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface ProbeTaskResult {
  name: string;
  kind: "attribute" | "finding";
  classes: readonly string[];
  /** Held-out accuracy. */
  accuracy: number;
  /** Accuracy of always predicting the most frequent test class. */
  majorityBaseline: number;
}

export interface ProbeResult {
  cohort: CohortName;
  trainSize: number;
  testSize: number;
  epochsRun: number;
  trainSeconds: number;
  generation: { images: number; seconds: number; imagesPerSecond: number };
  tasks: ProbeTaskResult[];
}

interface Task {
  name: string;
  kind: "attribute" | "finding";
  classes: string[];
  targetOf(sample: MedicalSample): number;
}

function heUniform(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const bound = Math.sqrt(6 / fanIn);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (rng.next() * 2 - 1) * bound;
  return tf.tensor(values, shape);
}

/** Stacks images of equal size into one NHWC Float32Array. */
function stack(samples: readonly MedicalSample[]): {
  data: Float32Array;
  shape: [number, number, number, number];
} {
  const { width, height, channels } = samples[0].image;
  const per = width * height * channels;
  const data = new Float32Array(samples.length * per);
  samples.forEach((s, i) => data.set(s.image.data, i * per));
  return { data, shape: [samples.length, height, width, channels] };
}

function channelStats(data: Float32Array, channels: number): { mean: number[]; sd: number[] } {
  const mean = new Array<number>(channels).fill(0);
  const sq = new Array<number>(channels).fill(0);
  for (let i = 0; i < data.length; i++) {
    mean[i % channels] += data[i];
    sq[i % channels] += data[i] * data[i];
  }
  const n = data.length / channels;
  const sd = mean.map((m, ch) => Math.sqrt(Math.max(sq[ch] / n - (m / n) ** 2, 1e-8)));
  return { mean: mean.map((m) => m / n), sd };
}

function standardise(
  data: Float32Array,
  channels: number,
  stats: { mean: number[]; sd: number[] },
) {
  for (let i = 0; i < data.length; i++) {
    const ch = i % channels;
    data[i] = (data[i] - stats.mean[ch]) / stats.sd[ch];
  }
}

export async function probeCohortLearnability(options: ProbeOptions): Promise<ProbeResult> {
  const trainSize = options.trainSize ?? 3000;
  const testSize = options.testSize ?? 1000;
  const epochs = options.epochs ?? 8;
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 1;
  const rng = createRng(seed);

  const started = Date.now();
  const make = (size: number, s: number) => {
    const cohort = createSyntheticCohort({
      cohort: options.cohort,
      size,
      seed: s,
      imageSize: options.imageSize,
      mix: options.mix,
    });
    return cohort.records.map((_, i) => cohort.sampleAt(i));
  };
  const train = make(trainSize, seed * 2 + 1);
  const test = make(testSize, seed * 2 + 2);
  const genSeconds = (Date.now() - started) / 1000;
  const definition = createSyntheticCohort({ cohort: options.cohort, size: 0, seed }).definition;

  const tasks: Task[] = [
    ...definition.attributes.map((a) => ({
      name: a.name,
      kind: "attribute" as const,
      classes: [...a.groups],
      targetOf: (s: MedicalSample) => a.groups.indexOf(s.attributes[a.name]),
    })),
    ...definition.findings.map((f) => ({
      name: f,
      kind: "finding" as const,
      classes: [`no ${f}`, f],
      targetOf: (s: MedicalSample) => s.labels[f],
    })),
  ];

  const [, h, w, c] = stack(train.slice(0, 1)).shape;
  const convSpecs = [
    { out: 8, stride: 1 },
    { out: 16, stride: 2 },
    { out: 32, stride: 2 },
    { out: 32, stride: 2 },
  ];
  const variables: tf.Variable[] = [];
  let inC = c;
  const convs = convSpecs.map((spec) => {
    const kernel = tf.variable(heUniform(rng, [3, 3, inC, spec.out], 9 * inC));
    const bias = tf.variable(tf.zeros([spec.out]));
    variables.push(kernel, bias);
    inC = spec.out;
    return { kernel, bias, stride: spec.stride };
  });
  const flat = Math.ceil(h / 8) * Math.ceil(w / 8) * inC;
  const hidden = 64;
  const denseW = tf.variable(heUniform(rng, [flat, hidden], flat));
  const denseB = tf.variable(tf.zeros([hidden]));
  variables.push(denseW, denseB);
  const heads = tasks.map((task) => {
    const hw = tf.variable(heUniform(rng, [hidden, task.classes.length], hidden));
    const hb = tf.variable(tf.zeros([task.classes.length]));
    variables.push(hw, hb);
    return { hw, hb };
  });

  const forward = (x: tf.Tensor4D): tf.Tensor2D[] => {
    let act: tf.Tensor4D = x;
    for (const conv of convs) {
      act = tf.relu(
        tf.add(tf.conv2d(act, conv.kernel as tf.Tensor4D, conv.stride, "same"), conv.bias),
      ) as tf.Tensor4D;
    }
    const features = tf.relu(tf.add(tf.matMul(tf.reshape(act, [-1, flat]), denseW), denseB));
    return heads.map((head) => tf.add(tf.matMul(features, head.hw), head.hb) as tf.Tensor2D);
  };

  const trainImages = stack(train);
  const testImages = stack(test);
  const per = h * w * c;
  // Standardise per channel with training statistics: much faster convergence for a tiny net.
  const stats = channelStats(trainImages.data, c);
  standardise(trainImages.data, c, stats);
  standardise(testImages.data, c, stats);
  const targets = tasks.map((task) => Int32Array.from(train, (s) => task.targetOf(s)));
  const optimizer = tf.train.adam(options.learningRate ?? 3e-3);
  const order = Array.from({ length: train.length }, (_, i) => i);
  const trainStart = Date.now();
  let epochsRun = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const xData = new Float32Array(idx.length * per);
      idx.forEach((i, k) => xData.set(trainImages.data.subarray(i * per, (i + 1) * per), k * per));
      const x = tf.tensor4d(xData, [idx.length, h, w, c]);
      const ys = tasks.map((task, t) =>
        tf.oneHot(
          tf.tensor1d(
            Int32Array.from(idx, (i) => targets[t][i]),
            "int32",
          ),
          task.classes.length,
        ),
      );
      const cost = optimizer.minimize(() => {
        const logits = forward(x);
        return logits
          .map((l, t) => tf.losses.softmaxCrossEntropy(ys[t], l))
          .reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      }, true);
      lossSum += (await cost!.data())[0];
      batches++;
      tf.dispose([x, ...ys, cost!]);
    }
    epochsRun++;
    options.onEpoch?.(epoch, lossSum / batches);
    if (options.timeBudgetMs !== undefined && Date.now() - trainStart > options.timeBudgetMs) break;
  }
  const trainSeconds = (Date.now() - trainStart) / 1000;

  const correct = tasks.map(() => 0);
  for (let start = 0; start < test.length; start += 256) {
    const n = Math.min(256, test.length - start);
    const x = tf.tensor4d(testImages.data.subarray(start * per, (start + n) * per), [n, h, w, c]);
    const predictions = tf.tidy(() => forward(x).map((l) => tf.argMax(l, 1)));
    for (let t = 0; t < tasks.length; t++) {
      const predicted = await predictions[t].data();
      for (let k = 0; k < n; k++)
        if (predicted[k] === tasks[t].targetOf(test[start + k])) correct[t]++;
    }
    tf.dispose([x, ...predictions]);
  }
  tf.dispose(variables);
  optimizer.dispose();

  return {
    cohort: options.cohort,
    trainSize,
    testSize,
    epochsRun,
    trainSeconds,
    generation: {
      images: trainSize + testSize,
      seconds: genSeconds,
      imagesPerSecond: (trainSize + testSize) / Math.max(genSeconds, 1e-3),
    },
    tasks: tasks.map((task, t) => {
      const counts = task.classes.map(() => 0);
      for (const s of test) counts[task.targetOf(s)]++;
      return {
        name: task.name,
        kind: task.kind,
        classes: task.classes,
        accuracy: correct[t] / test.length,
        majorityBaseline: Math.max(...counts) / test.length,
      };
    }),
  };
}
