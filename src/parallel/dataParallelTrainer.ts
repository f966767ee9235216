/**
 * Data-parallel training over worker_threads. wasm runs one thread per Node thread, so using
 * both cores of a laptop means one model replica per core: each computes the gradient of its
 * share of the batch into shared memory, and every replica applies their sum, taken in replica
 * order, with the same optimizer — so replicas stay identical and a run matches the one-replica
 * run up to float summation order.
 */
import { isMainThread, Worker } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import type { ArrayBatch, TrainableModel } from "../backend/trainableModel";
import type { BackendRequest } from "../backend/backendInfo";
import { loadNativeKernels, setNativeThreads } from "../backend/nativeKernels/nativeAddon";
import { nativeKernelsActive } from "../backend/nativeKernels/registerNativeKernels";
import type { FromReplica, ModelSpec, ToReplica } from "./messages";
import type { OptimizerSpec, OptimizerState } from "./optimizerSpec";
import { loadModel, Replica } from "./replica";
import { batchSize, shardBatch } from "./shardBatch";
import { compiledModule } from "./compiledModule";
import { assertFiniteStep, NonFiniteStepError } from "./nonFiniteStep";
import { applyClippedGradients, clipFactor } from "./clippedUpdate";
import { sharedReplicaShares, sumIntoFirst, type ReplicaShares } from "./replicaShares";

export interface DataParallelOptions {
  /** Total replicas, the trainer's own thread included (1 = no workers). */
  replicas: number;
  model: ModelSpec;
  optimizer: OptimizerSpec;
  /** Backend each worker selects (the trainer's thread keeps whatever is active). */
  backend?: BackendRequest;
  /**
   * The trainer thread's replica, when the caller already holds the live model (e.g. to sample
   * from it during training). Must have the variables `model` builds, in the same order.
   */
  local?: TrainableModel;
}

class WorkerReplica {
  private pending: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly worker: Worker) {
    worker.on("message", (m: FromReplica) => {
      const waiting = this.pending;
      this.pending = undefined;
      if (!waiting) return;
      if (m.kind === "error") waiting.reject(new Error(`replica worker failed: ${m.message}`));
      else waiting.resolve(m);
    });
    worker.on("error", (e) => this.pending?.reject(e));
  }

  request<K extends FromReplica["kind"]>(
    message: ToReplica,
    expect: K,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<FromReplica, { kind: K }>> {
    if (this.pending) throw new Error("replica already busy");
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (m) =>
          m.kind === expect
            ? resolve(m as Extract<FromReplica, { kind: K }>)
            : reject(new Error(`expected ${expect}, got ${m.kind}`)),
        reject,
      };
      this.worker.postMessage(message, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export interface TrainerStepOptions {
  /** Learning rate for this step (schedules); default: the optimizer spec's. */
  learningRate?: number;
  /** Clip the summed gradient to this global L2 norm. */
  clipNorm?: number;
}

export interface TrainerStepOutcome {
  /** Mean loss over the whole batch. */
  loss: number;
  /** Global L2 norm of the summed gradient, before clipping. */
  gradientNorm: number;
}

/** With native kernels in the main thread: a pool of cores / replicas; returns its old size. */
function shareNativeThreads(replicas: number): number | undefined {
  if (!isMainThread || !nativeKernelsActive()) return undefined;
  const before = loadNativeKernels().threads;
  setNativeThreads(Math.max(1, Math.floor(before / replicas)));
  return before;
}

export class DataParallelTrainer {
  private constructor(
    private readonly local: Replica,
    private readonly workers: WorkerReplica[],
    private readonly options: DataParallelOptions,
    /** Each replica's gradient share, in memory every thread reads and writes without a copy. */
    private readonly shares: ReplicaShares,
    private readonly nativeThreadsBefore?: number,
  ) {}

  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (!Number.isInteger(options.replicas) || options.replicas < 1) {
      throw new Error(`replicas must be a positive integer, got ${options.replicas}`);
    }
    const local = options.local
      ? new Replica(options.local, options.optimizer, false)
      : new Replica(loadModel(options.model), options.optimizer);
    const weights = await local.weights();
    const lengths = local.model.variables.map((v) => v.size);
    const shares = sharedReplicaShares(lengths, options.replicas > 1 ? options.replicas : 0);
    const workers: WorkerReplica[] = [];
    try {
      for (let i = 1; i < options.replicas; i++) {
        const replica = new WorkerReplica(new Worker(compiledModule(__dirname, "replicaWorker")));
        workers.push(replica);
        await replica.request(
          {
            kind: "init",
            model: options.model,
            optimizer: options.optimizer,
            // Workers run what this thread runs (wasm or cpu: other backends train with one replica).
            backend: options.backend ?? (tf.getBackend() as BackendRequest),
            weights: weights.map((w) => w.slice()),
            shares: shares.shares,
            index: i,
          },
          "ready",
        );
      }
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      local.dispose();
      throw error;
    }
    // Each worker replica runs its native kernels in its own thread: the main thread's pool
    // shrinks so the replicas share the cores instead of oversubscribing them (restored at
    // dispose).
    const poolBefore = workers.length > 0 ? shareNativeThreads(options.replicas) : undefined;
    return new DataParallelTrainer(local, workers, options, shares, poolBefore);
  }

  /** The trainer's own replica's variables (live tf.Variables, e.g. for EMA or sampling). */
  get variables() {
    return this.local.model.variables;
  }

  get replicas(): number {
    return this.workers.length + 1;
  }

  /**
   * One optimisation step on `batch`. Gradients are summed over replicas, optionally clipped to
   * a global L2 norm, then applied by every replica. Returns the batch's mean loss and the
   * gradient norm before clipping. A non-finite loss, gradient or update throws
   * NonFiniteStepError before any replica changes (nonFiniteStep.ts).
   */
  async step(batch: ArrayBatch, options: TrainerStepOptions = {}): Promise<TrainerStepOutcome> {
    if (this.workers.length === 0) return this.stepAlone(batch, options);
    const n = batchSize(batch);
    const shards = shardBatch(batch, this.replicas);
    const scale = (shard: ArrayBatch) => batchSize(shard) / n;
    const shares = this.shares.shares;
    const remote = this.workers.map((w, i) =>
      w.request(
        { kind: "gradients", batch: shards[i + 1], scale: scale(shards[i + 1]) },
        "gradients",
      ),
    );
    const ownLoss = await this.local.gradientsInto(shards[0], scale(shards[0]), shares[0]);
    const losses = [ownLoss, ...(await Promise.all(remote)).map((r) => r.loss)];
    // The shares summed once, into replica 0's, with the norm: every replica applies that array.
    const gradientNorm = Math.sqrt(sumIntoFirst(this.shares));
    const loss = losses.reduce((sum, l) => sum + l, 0);
    const learningRate = options.learningRate ?? this.options.optimizer.learningRate;
    assertFiniteStep({ loss, gradientNorm, learningRate });
    const gradientScale = clipFactor(gradientNorm, options.clipNorm);
    // Every replica applies the sum of the shares at once, each checked: they compute the same
    // update from the same weights, so a non-finite update is refused by all of them (and an
    // outcome that differs between replicas is an error, not a silent divergence).
    const remoteApplied = this.workers.map((w) =>
      w.request({ kind: "apply", learningRate, gradientScale }, "applied"),
    );
    let refusal: unknown;
    try {
      await this.local.applyHostChecked(shares[0], learningRate, gradientScale);
    } catch (error) {
      if (!(error instanceof NonFiniteStepError)) throw error;
      refusal = error;
    }
    const replies = await Promise.all(remoteApplied);
    if (replies.some((r) => r.refused !== (refusal !== undefined))) {
      throw new Error("data-parallel replicas disagreed on whether the update is finite");
    }
    if (refusal) throw refusal;
    return { loss, gradientNorm };
  }

  /**
   * The step of a trainer with no workers: gradients, their global norm (one kernel), clipping
   * (as a scale inside the optimizer's update) and the update stay on the backend; only the loss
   * and the norm are read (clippedUpdate.ts). The same checks, in the same order, as the
   * data-parallel step.
   */
  private async stepAlone(
    batch: ArrayBatch,
    options: TrainerStepOptions,
  ): Promise<TrainerStepOutcome> {
    const learningRate = options.learningRate ?? this.options.optimizer.learningRate;
    const { value, gradients } = this.local.gradientsOnBackend(batch);
    try {
      return await applyClippedGradients(this.variables, gradients, this.local.optimizer, {
        learningRate,
        clipNorm: options.clipNorm,
        loss: value,
      });
    } finally {
      tf.dispose([value, ...gradients]);
    }
  }

  /** Optimizer moments and iteration count (identical on every replica). */
  optimizerState(): Promise<OptimizerState> {
    return this.local.optimizerState();
  }

  /** Sets weights (and optionally optimizer state) on every replica, e.g. to resume a run. */
  async restore(weights: Float32Array[], optimizer?: OptimizerState): Promise<void> {
    this.local.setWeights(weights);
    if (optimizer) await this.local.setOptimizerState(optimizer);
    for (const w of this.workers) {
      await w.request({ kind: "restore", weights, optimizer }, "restored");
    }
  }

  weights(): Promise<Float32Array[]> {
    return this.local.weights();
  }

  /** Weights held by worker `index` (1-based, as replicas are numbered), for consistency checks. */
  async workerWeights(index: number): Promise<Float32Array[]> {
    const worker = this.workers[index - 1];
    if (!worker) throw new Error(`no replica ${index}`);
    return (await worker.request({ kind: "weights" }, "weights")).weights;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.local.dispose();
    if (this.nativeThreadsBefore !== undefined) setNativeThreads(this.nativeThreadsBefore);
  }
}
