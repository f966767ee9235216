/**
 * Diffusion benchmark (`npm run bench -- diffusion [trainSteps] [sampleRounds]`): the shipped
 * cxr-mini architecture (CXR_MINI.model) on tfjs wasm against its PyTorch twin
 * (bench/peers/diffusion_twin.py, proven identical by test/bench/diffusionTwin.test.ts), in the
 * same run, with 1 and 2 threads:
 *   - training step at batch 32: text encoder + UNet forward, backward, global-norm clip 1, AdamW
 *     (tfjs: DataParallelTrainer, as `fairdiff train` runs it);
 *   - sampling at batch 32: DDIM, 25 steps, classifier-free guidance (UNet on 64 = 2 × 32 latents
 *     per step), then the autoencoder decode (tfjs: generateImages).
 * Two cores train as `fairdiff train` does, 2 replicas of one thread each on the batch's halves
 * (and, for comparison, one replica on a pool of 2 native threads), and — data parallelism as it
 * scales — 2 replicas at 32 images each; the gains of 2 replicas over 1 come from rounds that
 * alternate the three (a shared machine's speed drifts between separately timed rows). They
 * sample with the native kernels' pool of 2 threads (without native kernels, two worker threads
 * with 16 images each).
 * Prints ms/step, images/s and the tfjs/PyTorch time ratios (goal ≤ 1.0: tfjs as fast or faster).
 * `FAIRDIFF_WASM_THREADS=2 npm run bench -- diffusion` measures the tfjs rows with XNNPACK's
 * thread pool (src/backend/wasmThreads.ts) instead: its 1-replica rows against PyTorch's 2 threads.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fork, type ChildProcess } from "node:child_process";
import { Worker } from "node:worker_threads";
import { wasmThreadsFromEnvironment } from "../src/backend/wasmThreads";
import { loadNativeKernels, setNativeThreads } from "../src/backend/nativeKernels/nativeAddon";
import { nativeKernelsActive } from "../src/backend/nativeKernels/registerNativeKernels";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, useBackend } from "../src/backend";
import { setKernelReplay } from "../src/backend/kernelReplay";
import type { ArrayBatch } from "../src/backend/trainableModel";
import { NULL_PROMPT } from "../src/models/classifierFreeGuidance";
import { DataParallelTrainer } from "../src/parallel";
import { shardBatch } from "../src/parallel/shardBatch";
import { compiledModule } from "../src/parallel/compiledModule";
import { buildOptimizer } from "../src/parallel/optimizerSpec";
import { toTensors } from "../src/parallel/replica";
import { denoiserTrainable } from "../src/pipeline/denoiserReplica";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { presetVocabularyPrompts } from "../src/pipeline/trainPreset";
import { generateImages, initialLatents, type GenerateOptions } from "../src/pipeline/textToImage";
import { createScheduler } from "../src/schedulers/createScheduler";
import { NoiseSchedule } from "../src/schedulers/noiseSchedule";
import { createRng } from "../src/util/random";
import { median } from "./median";
import { twinConfig, twinScript, twinWeights, writeTensors } from "./peers/diffusionTwin";
import { peerHasModules, runPeerJson } from "./peers/python";
import type { OneCoreReply, OneCoreRequest } from "./peers/oneCoreProcess";
import type { SamplingWorkerData } from "./peers/samplingWorker";

const BATCH = 32;
/**
 * Training steps run before tfjs is timed: V8 keeps compiling the engine's code in the background
 * for ~50 steps (~10 ms of another core a step at first), and a training run is hundreds of steps.
 */
const TRAINING_WARMUP = 40;
const SAMPLING_STEPS = 25;
const GUIDANCE = 3;
const LEARNING_RATE = CXR_MINI.denoiser.learningRate;
const WEIGHT_DECAY = 1e-2;
const CLIP_NORM = 1;

const loadavg = () => fs.readFileSync("/proc/loadavg", "utf8").trim();

/** Wall time (median per training step; mean per image) and process CPU time, all threads. */
export interface Timing {
  wall: number;
  cpu: number;
}

interface Row {
  threads: number;
  tfjsTrain: Timing;
  tfjsSample?: Timing;
  torchTrain?: Timing;
  torchSample?: Timing;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A training batch as denoiserTraining makes one: random t, 10 % null prompts. */
export function trainingBatch(
  model: LatentDiffusionModel,
  prompts: string[],
  size = BATCH,
): ArrayBatch {
  const BATCH = size;
  const rng = createRng(1);
  const { sampleSize, inChannels } = model.config.unet;
  const per = sampleSize * sampleSize * inChannels;
  const schedule = new NoiseSchedule(model.config.noise);
  const latents = Float32Array.from({ length: BATCH * per }, () => rng.normal());
  const noise = Float32Array.from({ length: BATCH * per }, () => rng.normal());
  const timesteps = Float32Array.from({ length: BATCH }, () => rng.int(schedule.trainTimesteps));
  const chosen = Array.from({ length: BATCH }, (_, i) =>
    rng.next() < CXR_MINI.denoiser.promptDropout ? NULL_PROMPT : prompts[i],
  );
  const encoded = model.tokenizer.encode(chosen, { overflow: "truncate" });
  const shape = [BATCH, sampleSize, sampleSize, inChannels];
  return {
    latents: { values: latents, shape },
    noise: { values: noise, shape },
    timesteps: { values: timesteps, shape: [BATCH] },
    signal: { values: timesteps.map((t) => Math.sqrt(schedule.alphaBar(t))), shape: [BATCH] },
    spread: { values: timesteps.map((t) => Math.sqrt(1 - schedule.alphaBar(t))), shape: [BATCH] },
    tokenIds: { values: encoded.ids, shape: [BATCH, encoded.maxLength], dtype: "int32" },
    tokenMask: { values: encoded.mask, shape: [BATCH, encoded.maxLength] },
  };
}

/** A trainer as `fairdiff train` makes one: the live model as replica 0, the rest in workers. */
function benchTrainer(model: LatentDiffusionModel, replicas: number): Promise<DataParallelTrainer> {
  return DataParallelTrainer.create({
    replicas,
    model: {
      module: compiledModule(path.join(__dirname, "../src/pipeline"), "denoiserReplica"),
      exportName: "createDenoiserReplica",
      options: { config: model.config, tokenizer: model.tokenizer.toJSON() },
    },
    optimizer: { name: "adamw", learningRate: LEARNING_RATE, weightDecay: WEIGHT_DECAY },
    backend: "wasm",
    // The live model as replica 0, as denoiserTraining does.
    local: denoiserTrainable(
      model.textEncoder,
      model.unet,
      model.config.noise.predictionType,
      false,
    ),
  });
}

/** `steps` timed training steps: the median step's wall time and the mean CPU time. */
async function timedSteps(
  trainer: DataParallelTrainer,
  batch: ArrayBatch,
  steps: number,
): Promise<Timing> {
  const cpuStart = cpuMs();
  const stepMs = await stepWallTimes(trainer, batch, steps);
  return { wall: median(stepMs), cpu: (cpuMs() - cpuStart) / steps };
}

/** Each of `steps` training steps' wall ms. */
async function stepWallTimes(
  trainer: DataParallelTrainer,
  batch: ArrayBatch,
  steps: number,
): Promise<number[]> {
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await trainer.step(batch, { clipNorm: CLIP_NORM });
    stepMs.push(performance.now() - start);
  }
  return stepMs;
}

async function warmUp(
  trainer: DataParallelTrainer,
  batch: ArrayBatch,
  steps = TRAINING_WARMUP,
): Promise<void> {
  for (let i = 0; i < steps; i++) await trainer.step(batch, { clipNorm: CLIP_NORM });
}

/**
 * Median ms of a training step as `fairdiff train` runs it (`replicas` replicas, clipping, the
 * checked AdamW) after `warmUpSteps` (the first records the replayed step).
 */
export async function tfjsMsPerStep(
  model: LatentDiffusionModel,
  batch: ArrayBatch,
  replicas: number,
  steps: number,
  warmUpSteps = TRAINING_WARMUP,
): Promise<Timing> {
  const trainer = await benchTrainer(model, replicas);
  try {
    await warmUp(trainer, batch, warmUpSteps);
    return await timedSteps(trainer, batch, steps);
  } finally {
    await trainer.dispose();
  }
}

export interface ReplicaGains {
  /** 2 replicas against 1 on the same batch of 32: the median round's, and each round's. */
  fixedBatch: { gain: number; rounds: number[] };
  /** 2 replicas on 64 against 1 on 32, in images a second. */
  perCore: { gain: number; rounds: number[] };
}

/**
 * Steps each side takes before the next: a few hundred ms, so that a shared machine's slow
 * spells (seconds long, measured) fall on every side of a round alike.
 */
const ALTERNATION_STEPS = 4;

/**
 * Rounds of the replica gains: ~3 s each, so five cost little, and a median of five is not set by
 * the one or two rounds a shared machine's slow spell can spoil (seen at 1.17 among 1.75–1.83).
 */
const REPLICA_ROUNDS = 5;

/**
 * What two replicas gain over one, timed in rounds that alternate one replica on a batch of 32,
 * two on the same batch and two on a batch of 64 every few steps: each round's ratios come from
 * steps interleaved within a second or so, so a machine whose speed drifts (these are shared)
 * moves both sides of a ratio alike, where separately timed rows can land in different moods.
 * Both trainers train the live model (only their times are kept).
 */
async function alternatedReplicaGains(
  model: LatentDiffusionModel,
  batch: ArrayBatch,
  doubleBatch: ArrayBatch,
  steps: number,
): Promise<ReplicaGains> {
  const one = await benchTrainer(model, 1);
  const two = await benchTrainer(model, 2);
  try {
    await warmUp(one, batch);
    await warmUp(two, batch);
    await warmUp(two, doubleBatch);
    const fixed: number[] = [];
    const perCore: number[] = [];
    for (let round = 0; round < REPLICA_ROUNDS; round++) {
      const [alone, shared, doubled]: number[][] = [[], [], []];
      for (let done = 0; done < steps; done += ALTERNATION_STEPS) {
        const n = Math.min(ALTERNATION_STEPS, steps - done);
        alone.push(...(await stepWallTimes(one, batch, n)));
        shared.push(...(await stepWallTimes(two, batch, n)));
        doubled.push(...(await stepWallTimes(two, doubleBatch, n)));
      }
      fixed.push(median(alone) / median(shared));
      perCore.push((2 * median(alone)) / median(doubled));
    }
    return {
      fixedBatch: { gain: median(fixed), rounds: fixed },
      perCore: { gain: median(perCore), rounds: perCore },
    };
  } finally {
    await two.dispose();
    await one.dispose();
  }
}

export interface ReplayGains {
  /** Eager step time over replayed, per batch size: the median round's, and each round's. */
  training: { batch: number; gain: number; rounds: number[]; eager: number; replayed: number }[];
  /** The same for sampling (generateImages, 32 images). */
  sampling: { gain: number; rounds: number[] };
}

/** `time` run with replay off, then on (left on). */
async function eagerThenReplayed(time: () => Promise<Timing>): Promise<[Timing, Timing]> {
  setKernelReplay(false);
  const eager = await time();
  setKernelReplay(true);
  return [eager, await time()];
}

/**
 * What kernel replay saves on one thread: the eager engine (setKernelReplay(false)) against
 * replay, alternated in rounds as the replica gains are. Training at a batch of 32 and of 8 (the
 * engine's cost per step does not shrink with the batch), and sampling.
 */
async function alternatedReplayGains(
  model: LatentDiffusionModel,
  allPrompts: string[],
  steps: number,
): Promise<ReplayGains> {
  const trainer = await benchTrainer(model, 1);
  const prompts = allPrompts.slice(0, BATCH);
  const sizes = [BATCH, 8];
  const batches = sizes.map((n) => trainingBatch(model, allPrompts, n));
  const ratios = sizes.map(() => ({
    rounds: [] as number[],
    eager: [] as number[],
    replayed: [] as number[],
  }));
  const sampling: number[] = [];
  try {
    for (const replay of [false, true]) {
      setKernelReplay(replay);
      for (const b of batches) await warmUp(trainer, b);
    }
    for (let round = 0; round < SIDE_BY_SIDE_ROUNDS; round++) {
      for (let i = 0; i < sizes.length; i++) {
        const [eager, replayed] = await eagerThenReplayed(() =>
          timedSteps(trainer, batches[i], steps),
        );
        ratios[i].rounds.push(eager.wall / replayed.wall);
        ratios[i].eager.push(eager.wall);
        ratios[i].replayed.push(replayed.wall);
      }
      const [eager, replayed] = await eagerThenReplayed(() => tfjsSampling(model, prompts, 1));
      sampling.push(eager.wall / replayed.wall);
    }
  } finally {
    setKernelReplay(true);
    await trainer.dispose();
  }
  return {
    training: sizes.map((batch, i) => ({
      batch,
      gain: median(ratios[i].rounds),
      rounds: ratios[i].rounds,
      eager: median(ratios[i].eager),
      replayed: median(ratios[i].replayed),
    })),
    sampling: { gain: median(sampling), rounds: sampling },
  };
}

/**
 * The same step without DataParallelTrainer: tf.variableGrads + AdamW in this thread, no
 * gradient download, summation or clipping — what the trainer's bookkeeping costs shows as the
 * difference from the 1-replica row.
 */
async function tfjsPlainMsPerStep(
  model: LatentDiffusionModel,
  batch: ArrayBatch,
  steps: number,
): Promise<Timing> {
  const trainable = denoiserTrainable(model.textEncoder, model.unet, "epsilon", false);
  const optimizer = buildOptimizer({
    name: "adamw",
    learningRate: LEARNING_RATE,
    weightDecay: WEIGHT_DECAY,
  });
  const inputs = toTensors(batch);
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => trainable.loss(inputs), trainable.variables);
    await value.data();
    optimizer.apply(
      trainable.variables,
      trainable.variables.map((v) => grads[v.name]),
      LEARNING_RATE,
    );
    await trainable.variables[0].data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  try {
    for (let i = 0; i < TRAINING_WARMUP; i++) await step();
    const stepMs: number[] = [];
    const cpuStart = cpuMs();
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      await step();
      stepMs.push(performance.now() - start);
    }
    return { wall: median(stepMs), cpu: (cpuMs() - cpuStart) / steps };
  } finally {
    optimizer.dispose();
    tf.dispose(Object.values(inputs));
  }
}

export function samplingOptions(): GenerateOptions {
  return {
    seed: 0,
    steps: SAMPLING_STEPS,
    guidanceScale: GUIDANCE,
    scheduler: "ddim",
    batchSize: BATCH,
  };
}

/** Seconds per image of generateImages (DDIM 25, CFG, decode) at batch 32 in this thread. */
export async function tfjsSampling(
  model: LatentDiffusionModel,
  prompts: string[],
  rounds: number,
): Promise<Timing> {
  tf.dispose(await generateImages(model, prompts, { ...samplingOptions(), steps: 2 }));
  const cpuStart = cpuMs();
  const start = performance.now();
  for (let i = 0; i < rounds; i++)
    tf.dispose(await generateImages(model, prompts, samplingOptions()));
  const images = prompts.length * rounds;
  return {
    wall: (performance.now() - start) / 1000 / images,
    cpu: (cpuMs() - cpuStart) / 1000 / images,
  };
}

/** Seconds per image with the batch split over two worker threads (each its own wasm). */
async function tfjsSamplingTwoThreads(checkpoint: string, prompts: string[]): Promise<Timing> {
  const half = prompts.length / 2;
  const workers = [0, 1].map(
    (k) =>
      new Worker(compiledModule(path.join(__dirname, "peers"), "samplingWorker"), {
        workerData: {
          checkpoint,
          prompts: prompts.slice(k * half, (k + 1) * half),
          options: { ...samplingOptions(), firstIndex: k * half },
        } satisfies SamplingWorkerData,
      }),
  );
  const next = (w: Worker) =>
    new Promise<{ kind: string; seconds?: number; message?: string }>((resolve, reject) => {
      w.once("message", (m: { kind: string; seconds?: number; message?: string }) =>
        m.kind === "error" ? reject(new Error(`sampling worker: ${m.message}`)) : resolve(m),
      );
      w.once("error", reject);
    });
  try {
    await Promise.all(workers.map(next));
    const cpuStart = cpuMs();
    const start = performance.now();
    const done = Promise.all(workers.map(next));
    for (const w of workers) w.postMessage("go");
    await done;
    return {
      wall: (performance.now() - start) / 1000 / prompts.length,
      cpu: (cpuMs() - cpuStart) / 1000 / prompts.length,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The next reply of a one-thread child process; its errors and its exit reject. */
function nextReply(child: ChildProcess): Promise<OneCoreReply & { kind: "ready" | "done" }> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`one-thread bench process exited (code ${code}) before replying`));
    child.once("exit", onExit);
    child.once("message", (reply: OneCoreReply) => {
      child.off("exit", onExit);
      if (reply.kind === "error") reject(new Error(`one-thread bench process: ${reply.message}`));
      else resolve(reply);
    });
  });
}

async function ask(child: ChildProcess, request: OneCoreRequest): Promise<Timing> {
  const reply = nextReply(child);
  child.send(request);
  const answer = await reply;
  if (answer.kind !== "done") throw new Error("one-thread bench process replied out of turn");
  return answer.timing;
}

/**
 * Two processes at once against one alone, alternated over rounds (the machine is shared: a
 * ratio is taken within a round). Speed-up = work done together / the slower process's time,
 * over one process's time for its work.
 */
export interface SideBySide {
  /** The median round's speed-up and timings. */
  speedUp: number;
  alone: Timing;
  pair: [Timing, Timing];
  /** Each round's speed-up. */
  rounds: number[];
}

const SIDE_BY_SIDE_ROUNDS = 3;

/**
 * The machine's ceiling for two cores on this workload: the one-thread training step and
 * sampling run in one process alone, then in two independent processes at once (no shared
 * memory, no exchange — what perfect data parallelism at the same per-process work could get),
 * and a batch's two halves in the two processes (the same, at a fixed batch).
 */
async function twoProcessesSideBySide(
  checkpoint: string,
  batch: ArrayBatch,
  prompts: string[],
  steps: number,
  rounds: number,
): Promise<{ training: SideBySide; halfBatches: SideBySide; sampling: SideBySide }> {
  const children = [0, 1].map(() =>
    fork(compiledModule(path.join(__dirname, "peers"), "oneCoreProcess"), [checkpoint], {
      env: { ...process.env, FAIRDIFF_THREADS: "1" },
      serialization: "advanced",
    }),
  );
  try {
    await Promise.all(children.map(nextReply));
    // Each process does the same work as the lone one, or — given `halves` — half of it.
    const measure = async (
      request: OneCoreRequest,
      halves?: [OneCoreRequest, OneCoreRequest],
    ): Promise<SideBySide> => {
      const measured: Omit<SideBySide, "rounds">[] = [];
      for (let round = 0; round < SIDE_BY_SIDE_ROUNDS; round++) {
        const alone = await ask(children[round % 2], request);
        const [a, b] = await Promise.all(children.map((c, i) => ask(c, halves?.[i] ?? request)));
        const work = halves ? 1 : 2;
        const speedUp = (work * alone.wall) / Math.max(a.wall, b.wall);
        measured.push({ speedUp, alone, pair: [a, b] });
      }
      const rounds = measured.map((m) => m.speedUp);
      // An odd number of rounds: the median round is one of them.
      const middle = [...measured].sort((x, y) => x.speedUp - y.speedUp)[measured.length >> 1];
      return { ...middle, rounds };
    };
    const train = { kind: "train", batch, steps } as const;
    const training = await measure(train);
    const [first, second] = shardBatch(batch, 2);
    const halfBatches = await measure(train, [
      { ...train, batch: first },
      { ...train, batch: second },
    ]);
    const sampling = await measure({ kind: "sample", prompts, rounds });
    return { training, halfBatches, sampling };
  } finally {
    for (const child of children) child.kill();
  }
}

/** Writes what the twin needs (config, weights, the same batch, the same sampling inputs). */
export async function prepareTwin(
  model: LatentDiffusionModel,
  batch: ArrayBatch,
  prompts: string[],
  dir: string,
  rounds: number,
): Promise<void> {
  const scheduler = createScheduler("ddim", model.config.noise);
  scheduler.setTimesteps(SAMPLING_STEPS);
  const timesteps = Array.from(scheduler.timesteps);
  const noise = new NoiseSchedule(model.config.noise);
  const config = {
    ...twinConfig(model),
    bench: {
      learningRate: LEARNING_RATE,
      weightDecay: WEIGHT_DECAY,
      clipNorm: CLIP_NORM,
      guidanceScale: GUIDANCE,
      sampleRounds: rounds,
      schedule: { timesteps, alphaBars: timesteps.map((t) => noise.alphaBar(t)) },
    },
  };
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  writeTensors(path.join(dir, "weights"), await twinWeights(model));
  writeTensors(path.join(dir, "inputs"), batch);
  const latents = initialLatents(model, 0, 0, prompts.length);
  const cond = model.tokenizer.encode(prompts, { overflow: "truncate" });
  const nul = model.tokenizer.encode(new Array<string>(prompts.length).fill(NULL_PROMPT));
  const tokens = [prompts.length, cond.maxLength];
  writeTensors(path.join(dir, "sample"), {
    latents: { values: await latents.data(), shape: latents.shape },
    condIds: { values: cond.ids, shape: tokens },
    condMask: { values: cond.mask, shape: tokens },
    nullIds: { values: nul.ids, shape: tokens },
    nullMask: { values: nul.mask, shape: tokens },
  });
  latents.dispose();
}

/** The same training step on WebGPU (Dawn) where an adapter exists; otherwise says why not. */
async function webgpuRow(model: LatentDiffusionModel, batch: ArrayBatch, steps: number) {
  try {
    const info = await useBackend("webgpu");
    // Two warm-up steps (the first records the replayed step): a software adapter takes seconds.
    const t = await tfjsMsPerStep(model, batch, 1, steps, 2);
    console.log(`webgpu (${info.adapter ?? "adapter"}): ${t.wall.toFixed(1)} ms/training step`);
  } catch (error) {
    console.log(`webgpu: not measured — ${(error as Error).message}`);
  } finally {
    await useBackend("wasm");
  }
}

export interface TwinBench {
  ms_per_step: number;
  step_ms: number[];
  cpu_ms_per_step: number;
  images_per_s: number;
  cpu_s_per_image: number;
  torch: string;
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined ? "n/a" : x.toFixed(digits));

export async function main(args: string[]): Promise<void> {
  const steps = Number(args[0] ?? 5);
  const rounds = Number(args[1] ?? 1);
  console.log(`load average at start: ${loadavg()}`);
  const info = await useBackend("wasm");
  console.log(describeBackend(info));
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);

  const allPrompts = presetVocabularyPrompts(CXR_MINI);
  const model = LatentDiffusionModel.create(allPrompts, CXR_MINI.model, CXR_MINI.modelSeed);
  const counts = model.parameterCount();
  console.log(
    `model: cxr-mini architecture — UNet ${counts.unet.toLocaleString()}, text encoder ${counts.textEncoder.toLocaleString()}, autoencoder ${counts.autoencoder.toLocaleString()} parameters; latents ${model.config.unet.sampleSize}×${model.config.unet.sampleSize}×${model.config.unet.inChannels}, ${model.tokenizer.maxLength} tokens`,
  );
  const prompts = allPrompts.slice(0, BATCH);
  const batch = trainingBatch(model, allPrompts);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-bench-diffusion-"));
  try {
    // Twin inputs and the two-thread checkpoint before training changes the weights.
    await prepareTwin(model, batch, prompts, dir, rounds);
    const checkpoint = path.join(dir, "model.fdckpt");
    await model.save(checkpoint);

    const cores = Math.min(2, os.availableParallelism());
    const native = nativeKernelsActive();
    const threadsBefore = native ? loadNativeKernels().threads : 1;
    const rows: Row[] = [];
    let poolRow: Timing | undefined;
    let gains: ReplicaGains | undefined;
    let plain: Timing;
    let replayGains: ReplayGains;
    let sideBySide: Awaited<ReturnType<typeof twoProcessesSideBySide>> | undefined;
    try {
      // c threads: training on c replicas of one thread each (as `fairdiff train`); sampling in
      // one process on a pool of c native threads, or, without native kernels, c worker threads.
      for (let c = 1; c <= cores; c++) {
        if (native) setNativeThreads(c);
        console.log(`\nmeasuring tfjs-wasm sampling, ${c} thread(s)…`);
        const sample =
          c === 1 || native
            ? await tfjsSampling(model, prompts, rounds)
            : await tfjsSamplingTwoThreads(checkpoint, prompts);
        console.log(`measuring tfjs-wasm training, ${c} replica(s)…`);
        const train = await tfjsMsPerStep(model, batch, c, steps);
        rows.push({ threads: c, tfjsTrain: train, tfjsSample: sample });
      }
      if (cores > 1) {
        if (native) {
          setNativeThreads(2);
          console.log("measuring tfjs-wasm training, 1 replica on a pool of 2 native threads…");
          poolRow = await tfjsMsPerStep(model, batch, 1, steps);
        }
        console.log(
          `measuring tfjs-wasm training, 1 replica and 2 (on ${BATCH} and ${2 * BATCH} images) in alternation…`,
        );
        gains = await alternatedReplicaGains(
          model,
          batch,
          trainingBatch(model, allPrompts, 2 * BATCH),
          steps,
        );
      }
      if (native) setNativeThreads(1);
      plain = await tfjsPlainMsPerStep(model, batch, steps);
      console.log("measuring kernel replay against the eager engine, 1 thread, in alternation…");
      replayGains = await alternatedReplayGains(model, allPrompts, steps);
      if (cores > 1) {
        console.log("measuring two one-thread processes, alone and side by side…");
        sideBySide = await twoProcessesSideBySide(checkpoint, batch, prompts, steps, rounds);
      }
    } finally {
      if (native) setNativeThreads(threadsBefore);
    }
    if (peerHasModules(["torch", "numpy"])) {
      console.log("measuring PyTorch twin…");
      for (const row of rows) {
        const r = runPeerJson<TwinBench>(twinScript(), [
          "bench",
          dir,
          String(steps),
          String(row.threads),
        ]);
        row.torchTrain = { wall: r.ms_per_step, cpu: r.cpu_ms_per_step };
        row.torchSample = { wall: 1 / r.images_per_s, cpu: r.cpu_s_per_image };
        console.log(
          `  torch ${r.torch}, ${row.threads} thread(s): step ms ${r.step_ms.map((x) => x.toFixed(0)).join(" ")}`,
        );
      }
    } else {
      console.log("PyTorch peer missing (apt install python3-torch python3-numpy): no ratios");
    }

    const ratio = (a?: number, b?: number) => (a && b ? fmt(a / b, 2) : "n/a");
    console.log(
      `\ncxr-mini denoiser, batch ${BATCH}, training step (forward + backward + clip + AdamW); wall = median of ${steps} steps, cpu = process CPU time per step (all threads)`,
    );
    console.log("threads  tfjs ms  torch ms  ratio | tfjs cpu ms  torch cpu ms  cpu ratio");
    for (const r of rows) {
      console.log(
        `${String(r.threads).padEnd(7)}  ${fmt(r.tfjsTrain.wall).padStart(7)}  ${fmt(r.torchTrain?.wall).padStart(8)}  ${ratio(r.tfjsTrain.wall, r.torchTrain?.wall).padStart(5)} | ${fmt(r.tfjsTrain.cpu).padStart(11)}  ${fmt(r.torchTrain?.cpu).padStart(12)}  ${ratio(r.tfjsTrain.cpu, r.torchTrain?.cpu).padStart(9)}`,
      );
    }
    if (poolRow) {
      console.log(
        `1 replica on a pool of 2 native threads: ${fmt(poolRow.wall)} ms (cpu ${fmt(poolRow.cpu)} ms), ratio ${ratio(poolRow.wall, rows[1]?.torchTrain?.wall)}`,
      );
    }
    const speedUp = (t?: Timing, u?: Timing) => (t && u ? fmt(t.wall / u.wall, 2) : "n/a");
    console.log(
      `two cores vs one (tfjs wall), a batch of ${BATCH}: training ${speedUp(rows[0]?.tfjsTrain, rows[1]?.tfjsTrain)}× (2 replicas${poolRow ? `; a pool of 2 threads: ${speedUp(rows[0]?.tfjsTrain, poolRow)}×` : ""}), sampling ${speedUp(rows[0]?.tfjsSample, rows[1]?.tfjsSample)}×`,
    );
    if (gains) {
      const rounds = (g: { rounds: number[] }) => g.rounds.map((x) => fmt(x, 2)).join(", ");
      console.log(
        `two cores vs one (tfjs training, 1 and 2 replicas timed in ${REPLICA_ROUNDS} alternated rounds): a batch of ${BATCH}: ${fmt(gains.fixedBatch.gain, 2)}× (rounds: ${rounds(gains.fixedBatch)}); ${BATCH} images per core (data parallelism as it scales: 2 replicas on ${2 * BATCH}): ${fmt(gains.perCore.gain, 2)}× the images a second (rounds: ${rounds(gains.perCore)}) (goal ≥ 1.7)`,
      );
    }
    if (sideBySide) {
      const { training, halfBatches, sampling } = sideBySide;
      const ms = (t: Timing) => fmt(t.wall);
      const ips = (t: Timing) => fmt(1 / t.wall, 1);
      const gain = (s: SideBySide) =>
        `${fmt(s.speedUp, 2)}× (rounds: ${s.rounds.map((x) => fmt(x, 2)).join(", ")})`;
      console.log(
        `two one-thread processes at once vs one alone, ${SIDE_BY_SIDE_ROUNDS} rounds alternated (no exchange: this machine's ceiling for two cores on this workload):`,
      );
      console.log(
        `  training, a batch of ${BATCH} each: ${gain(training)}; ${ms(training.alone)} ms/step alone, ${training.pair.map(ms).join(" / ")} together`,
      );
      console.log(
        `  training, the two halves of one batch (data parallelism at a fixed batch): ${gain(halfBatches)}; ${halfBatches.pair.map(ms).join(" / ")} ms a half-batch step`,
      );
      console.log(
        `  sampling, ${BATCH} images each: ${gain(sampling)}; ${ips(sampling.alone)} img/s alone, ${sampling.pair.map(ips).join(" / ")} together`,
      );
    }
    console.log(
      `tfjs plain variableGrads + AdamW, 1 thread, no clip: ${fmt(plain.wall)} ms (cpu ${fmt(plain.cpu)} ms), ratio ${ratio(plain.wall, rows[0].torchTrain?.wall)} / cpu ${ratio(plain.cpu, rows[0].torchTrain?.cpu)}`,
    );
    {
      const rounds = (r: number[]) => r.map((x) => fmt(x, 2)).join(", ");
      const training = replayGains.training
        .map(
          (t) =>
            `a batch of ${t.batch}: ${fmt(t.gain, 2)}× (${fmt(t.eager)} → ${fmt(t.replayed)} ms; rounds: ${rounds(t.rounds)})`,
        )
        .join("; ");
      console.log(
        `kernel replay against the eager engine (1 thread, ${SIDE_BY_SIDE_ROUNDS} alternated rounds; the rows above replay): training step, ${training}; sampling ${BATCH} images ${fmt(replayGains.sampling.gain, 2)}× (rounds: ${rounds(replayGains.sampling.rounds)})`,
      );
    }
    console.log(
      `\nsampling, batch ${BATCH}: DDIM ${SAMPLING_STEPS} steps, CFG ${GUIDANCE} (UNet on ${2 * BATCH} latents per step), + decode; ${rounds} round(s)`,
    );
    console.log(
      "threads  tfjs img/s  torch img/s  time ratio | tfjs cpu s/img  torch cpu s/img  cpu ratio",
    );
    for (const r of rows) {
      const ips = (t?: Timing) => (t ? fmt(1 / t.wall, 2) : "n/a");
      console.log(
        `${String(r.threads).padEnd(7)}  ${ips(r.tfjsSample).padStart(10)}  ${ips(r.torchSample).padStart(11)}  ${ratio(r.tfjsSample?.wall, r.torchSample?.wall).padStart(10)} | ${fmt(r.tfjsSample?.cpu, 3).padStart(14)}  ${fmt(r.torchSample?.cpu, 3).padStart(15)}  ${ratio(r.tfjsSample?.cpu, r.torchSample?.cpu).padStart(9)}`,
      );
    }
    console.log(
      native
        ? `ratios are tfjs time / PyTorch time (goal ≤ 1.0). tfjs: ${loadNativeKernels().reason.replace(/, \d+ threads?/, "")}; 2 threads: training = DataParallelTrainer with 2 replicas of one thread each, sampling = one process on a pool of 2 threads. tfjs training timed after ${TRAINING_WARMUP} steps. PyTorch 2 threads: torch.set_num_threads(2).`
        : `ratios are tfjs time / PyTorch time (goal ≤ 1.0). tfjs 2 threads: training = DataParallelTrainer with 2 replicas (timed after ${TRAINING_WARMUP} steps); sampling = two worker threads × 16 images; each replica or worker runs ${wasmThreadsFromEnvironment()} XNNPACK thread(s) (FAIRDIFF_WASM_THREADS). PyTorch 2 threads: torch.set_num_threads(2).`,
    );
    await webgpuRow(model, batch, steps);
    console.log(`load average at end: ${loadavg()}`);
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
