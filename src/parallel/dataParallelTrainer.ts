/**
 * Data-parallel training over worker_threads. wasm runs one thread per Node thread, so using
 * both cores of a laptop means one model replica per core: each computes the gradient of its
 * share of the batch into shared memory; each then sums the shares (in replica order) over its
 * own part of the variables and updates that part, and the replicas hand each other the new
 * weights (partitionedStep.ts) — so replicas stay identical and a run matches the one-replica run
 * up to float summation order.
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
import { NonFiniteStepError } from "./nonFiniteStep";
import { applyClippedGradients } from "./clippedUpdate";
import { sharedReplicaShares } from "./replicaShares";
import { joinStateParts } from "./optimizerStateParts";
import { partitionedStep, type PartitionedStepContext } from "./partitionedStep";
import { StepBarrier, StepBarrierAborted } from "./stepBarrier";
import { updatePartition } from "./updatePartition";

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

  /** A failure reported while no request waited (after a step's reply): the next one throws it. */
  private unclaimed: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.on("message", (m: FromReplica) => {
      const waiting = this.pending;
      this.pending = undefined;
      if (!waiting) {
        if (m.kind === "error") this.unclaimed ??= new Error(`replica worker failed: ${m.message}`);
        return;
      }
      if (m.kind === "error") waiting.reject(new Error(`replica worker failed: ${m.message}`));
      else waiting.resolve(m);
    });
    worker.on("error", (e) => this.pending?.reject(e));
    worker.on("exit", (code) =>
      this.pending?.reject(new Error(`replica worker exited (code ${code})`)),
    );
  }

  request<K extends FromReplica["kind"]>(
    message: ToReplica,
    expect: K,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<FromReplica, { kind: K }>> {
    if (this.pending) throw new Error("replica already busy");
    if (this.unclaimed) return Promise.reject(this.unclaimed);
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
    /** Each replica's gradient share, the barrier and the handover, in shared memory. */
    private readonly shared: PartitionedStepContext,
    private readonly nativeThreadsBefore?: number,
  ) {}

  /** Why the trainer stopped: a step that failed other than by being non-finite. */
  private failure: Error | undefined;

  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (!Number.isInteger(options.replicas) || options.replicas < 1) {
      throw new Error(`replicas must be a positive integer, got ${options.replicas}`);
    }
    const local = options.local
      ? new Replica(options.local, options.optimizer, false)
      : new Replica(loadModel(options.model), options.optimizer);
    const weights = await local.weights();
    const lengths = local.model.variables.map((v) => v.size);
    const parallel = options.replicas > 1;
    const shared: PartitionedStepContext = {
      index: 0,
      barrier: StepBarrier.create(options.replicas),
      shares: sharedReplicaShares(lengths, parallel ? options.replicas : 0),
      handover: new Float32Array(
        new SharedArrayBuffer(
          parallel ? weights.reduce((n, w) => n + w.length, 0) * Float32Array.BYTES_PER_ELEMENT : 0,
        ),
      ),
      ranges: updatePartition(lengths, options.replicas),
    };
    local.updateRange = shared.ranges[0];
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
            shares: shared.shares,
            index: i,
            barrier: shared.barrier.shared,
            handover: shared.handover,
            ranges: shared.ranges,
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
    return new DataParallelTrainer(local, workers, options, shared, poolBefore);
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
   * a global L2 norm, then applied (each replica updating its part, partitionedStep.ts). Returns
   * the batch's mean loss and the gradient norm before clipping. A non-finite loss, gradient or
   * update throws NonFiniteStepError before any replica changes (nonFiniteStep.ts); any other
   * failure stops the trainer (its later steps throw it again).
   */
  async step(batch: ArrayBatch, options: TrainerStepOptions = {}): Promise<TrainerStepOutcome> {
    if (this.failure) {
      throw new Error(
        `the data-parallel trainer stopped at a failed step: ${this.failure.message}`,
      );
    }
    if (this.workers.length === 0) return this.stepAlone(batch, options);
    const n = batchSize(batch);
    const shards = shardBatch(batch, this.replicas);
    const request = (i: number) => ({
      batch: shards[i],
      scale: batchSize(shards[i]) / n,
      learningRate: options.learningRate ?? this.options.optimizer.learningRate,
      clipNorm: options.clipNorm,
    });
    const { barrier } = this.shared;
    const remote = this.workers.map((w, i) =>
      w.request({ kind: "step", request: request(i + 1) }, "stepped").catch((error: Error) => {
        // A replica that died cannot abort the barrier itself.
        barrier.abort();
        throw error;
      }),
    );
    const ownStep = partitionedStep(this.local, this.shared, request(0)).then((done) => {
      done.adoptOthers();
      return done.outcome;
    });
    const [own, ...replies] = await Promise.allSettled([ownStep, ...remote]);
    const failed = [own, ...replies].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    // The failure to report: a replica's own error rather than the abort it caused in the others.
    const cause =
      failed.find((e) => !(e instanceof StepBarrierAborted || e instanceof NonFiniteStepError)) ??
      failed.find((e) => e instanceof StepBarrierAborted);
    if (cause) {
      this.failure = cause as Error;
      throw this.failure;
    }
    const refused = own.status === "rejected";
    if (replies.some((r) => r.status === "fulfilled" && r.value.refused !== refused)) {
      this.failure = new Error("data-parallel replicas disagreed on whether the step is finite");
      throw this.failure;
    }
    if (own.status === "rejected") throw own.reason;
    return own.value;
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

  /** Optimizer moments and iteration count: every replica's part, as one replica holds them. */
  async optimizerState(): Promise<OptimizerState> {
    const parts = [
      { first: this.shared.ranges[0].firstVariable, state: await this.local.optimizerState() },
    ];
    for (const [i, w] of this.workers.entries()) {
      const { state } = await w.request({ kind: "optimizerState" }, "optimizerState");
      parts.push({ first: this.shared.ranges[i + 1].firstVariable, state });
    }
    return joinStateParts(parts);
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
