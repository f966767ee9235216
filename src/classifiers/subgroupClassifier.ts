/**
 * Subgroup classifiers: predict each sensitive attribute and finding of an image, with
 * per-head temperature calibration and the held-out confusion matrix an audit needs to say how
 * far its counts can be trusted (and to correct them). Saved as a fairdiff checkpoint.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { RasterImage } from "../io/rasterImage";
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from "../io/checkpoint";
import { assignCheckpointWeights } from "../models/checkpointWeights";
import {
  checkpointSource,
  pretrainedCheckpointPath,
  type CheckpointSource,
} from "../pipeline/pretrainedSource";
import { imagesToUnitTensor } from "./imageBatch";
import type { ClassificationTask } from "./classificationTask";
import { softmaxRow } from "./temperatureScaling";
import {
  SubgroupClassifierNetwork,
  type ClassifierNetworkConfig,
} from "./subgroupClassifierNetwork";

export const SUBGROUP_CLASSIFIER_KIND = "subgroup-classifier";

/** How a head did on held-out data it was not trained or calibrated on. */
export interface HeadEvaluation {
  task: string;
  classes: string[];
  /** counts[i][j]: true class i predicted as j. */
  confusion: number[][];
  accuracy: number;
  /** Recall of each class: confusion[i][i] / Σ_j confusion[i][j]. */
  perClassAccuracy: number[];
  /** Held-out images with a known label for this head. */
  n: number;
  temperature: number;
}

export interface ClassifierMetadata {
  network: ClassifierNetworkConfig;
  tasks: ClassificationTask[];
  temperatures: number[];
  evaluation: HeadEvaluation[];
  /** What it was trained on (cohort, sizes, seed). */
  provenance: Record<string, unknown>;
}

export interface HeadPrediction {
  task: string;
  classes: string[];
  /** [n × classes] calibrated probabilities, row-major. */
  probabilities: Float32Array;
  /** Arg-max class per image. */
  predicted: Int32Array;
}

export class SubgroupClassifier {
  private loadedFrom?: CheckpointSource;

  constructor(
    readonly network: SubgroupClassifierNetwork,
    public temperatures: number[],
    public evaluation: HeadEvaluation[] = [],
    public provenance: Record<string, unknown> = {},
  ) {}

  /**
   * The checkpoint file this classifier was loaded from or last saved to (undefined for one
   * trained in memory); runAudit records it while the weights still match it.
   */
  get source(): CheckpointSource | undefined {
    return this.loadedFrom;
  }

  get tasks(): ClassificationTask[] {
    return this.network.tasks;
  }

  task(name: string): ClassificationTask {
    const task = this.tasks.find((t) => t.name === name);
    if (!task) {
      throw new Error(
        `classifier has no head "${name}" (heads: ${this.tasks.map((t) => t.name).join(", ")})`,
      );
    }
    return task;
  }

  /** Raw logits per head for images in [0, 1] ([n × classes] each). */
  async logits(images: RasterImage[] | tf.Tensor4D, batchSize = 128): Promise<Float32Array[]> {
    const n = Array.isArray(images) ? images.length : images.shape[0];
    const out = this.tasks.map((t) => new Float32Array(n * t.classes.length));
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const heads = tf.tidy(() => {
        const batch = Array.isArray(images)
          ? imagesToUnitTensor(images.slice(start, start + count), this.network.config)
          : (images.slice([start, 0, 0, 0], [count, -1, -1, -1]) as tf.Tensor4D);
        return this.network.logits(batch);
      });
      for (let h = 0; h < heads.length; h++) {
        out[h].set(await heads[h].data(), start * this.tasks[h].classes.length);
      }
      tf.dispose(heads);
    }
    return out;
  }

  /** Calibrated class probabilities and arg-max predictions for every head. */
  async predict(images: RasterImage[] | tf.Tensor4D): Promise<HeadPrediction[]> {
    const logits = await this.logits(images);
    return this.tasks.map((task, h) => {
      const k = task.classes.length;
      const n = logits[h].length / k;
      const probabilities = new Float32Array(n * k);
      const predicted = new Int32Array(n);
      const row = new Float64Array(k);
      for (let i = 0; i < n; i++) {
        softmaxRow(logits[h].subarray(i * k, (i + 1) * k), this.temperatures[h], row);
        let best = 0;
        for (let j = 0; j < k; j++) {
          probabilities[i * k + j] = row[j];
          if (row[j] > row[best]) best = j;
        }
        predicted[i] = best;
      }
      return { task: task.name, classes: task.classes, probabilities, predicted };
    });
  }

  async save(file: string): Promise<void> {
    const tensors: Record<string, CheckpointTensor> = {};
    for (const [name, v] of this.network.namedParameters()) {
      tensors[name] = { values: Float32Array.from(await v.data()), shape: v.shape };
    }
    const metadata: ClassifierMetadata = {
      network: this.network.config,
      tasks: this.tasks,
      temperatures: this.temperatures,
      evaluation: this.evaluation,
      provenance: this.provenance,
    };
    const sha256 = saveCheckpoint(file, { kind: SUBGROUP_CLASSIFIER_KIND, metadata, tensors });
    this.loadedFrom = checkpointSource(file, sha256, tensors);
  }

  /** Loads a classifier; refuses tensors whose names or shapes differ from its config's network. */
  static load(file: string): SubgroupClassifier {
    const checkpoint = loadCheckpoint<ClassifierMetadata>(file, SUBGROUP_CLASSIFIER_KIND);
    const meta = checkpoint.metadata;
    const given = meta as Partial<ClassifierMetadata> | undefined;
    if (
      typeof given?.network !== "object" ||
      !Array.isArray(given.tasks) ||
      !Array.isArray(given.temperatures)
    ) {
      throw new Error(
        `${file}: the checkpoint's metadata has no network config, tasks and temperatures`,
      );
    }
    const network = new SubgroupClassifierNetwork(meta.network, meta.tasks, 0);
    try {
      assignCheckpointWeights(file, checkpoint.tensors, [["", network]]);
    } catch (error) {
      network.dispose();
      throw error;
    }
    const classifier = new SubgroupClassifier(
      network,
      meta.temperatures,
      meta.evaluation,
      meta.provenance,
    );
    classifier.loadedFrom = checkpointSource(file, checkpoint.fileSha256, checkpoint.tensors);
    return classifier;
  }

  /**
   * A shipped classifier by name ("cxr-classifier" → models/cxr-classifier.fdckpt) or a
   * checkpoint file; the classifier remembers the file (`source`).
   */
  static async fromPretrained(nameOrPath: string): Promise<SubgroupClassifier> {
    return SubgroupClassifier.load(pretrainedCheckpointPath(nameOrPath));
  }

  dispose(): void {
    this.network.dispose();
  }
}
