/**
 * Replay on the wasm heap (src/backend/wasmHeapReplay.ts), on a real denoiser training step: most
 * instructions run as planned native calls, aliases and copies; the loss and gradients are the
 * floats of the eager step and of replay through tfjs's kernels; nothing is left behind — no
 * tensor, no tensor record and no bare heap buffer — also when a kernel or a native call throws
 * mid-way.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../../src/backend";
import {
  recordStep,
  ReplayedStep,
  replayStep,
  type ReplayPlan,
} from "../../src/backend/kernelReplay";
import {
  heapProgramOf,
  runHeapProgram,
  setHeapReplay,
  type HeapAction,
  type HeapProgram,
} from "../../src/backend/wasmHeapReplay";
import { denoisingBatches } from "../../src/pipeline/denoisingBatch";
import { denoiserTrainable } from "../../src/pipeline/denoiserReplica";
import { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { createRng } from "../../src/util/random";
import { nativeTest } from "../helpers/nativeKernels";
import { TINY_CONFIG, tinyExamples } from "../pipeline/tinyModel";

jest.setTimeout(120_000);

/** No zero-initialised output layers: every weight gets a gradient. */
const LIVE_CONFIG = { ...TINY_CONFIG, unet: { ...TINY_CONFIG.unet, zeroInitResiduals: false } };

interface WasmModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

/**
 * Heap buffers allocated from JavaScript while `f` runs: how many, and how many are not freed by
 * its end.
 */
async function heapUseBy(f: () => Promise<void>): Promise<{ allocations: number; left: number }> {
  const wasm = (tf.backend() as unknown as { wasm: WasmModule }).wasm;
  const { _malloc, _free } = wasm;
  const live = new Set<number>();
  let allocations = 0;
  wasm._malloc = (bytes) => {
    const pointer = _malloc(bytes);
    live.add(pointer);
    allocations++;
    return pointer;
  };
  wasm._free = (pointer) => {
    live.delete(pointer);
    _free(pointer);
  };
  try {
    await f();
  } finally {
    wasm._malloc = _malloc;
    wasm._free = _free;
  }
  return { allocations, left: live.size };
}

/** Heap buffers allocated from JavaScript while `f` runs and not freed by its end. */
async function heapLeftBy(f: () => Promise<void>): Promise<number> {
  return (await heapUseBy(f)).left;
}

const counts = () => ({
  tensors: tf.memory().numTensors,
  records: tf.engine().backend.numDataIds(),
});

async function valuesOf(tensors: tf.Tensor[]): Promise<number[][]> {
  return Promise.all(tensors.map(async (t) => Array.from(await t.data())));
}

describe("kernel replay on the wasm heap", () => {
  let model: LatentDiffusionModel;
  let batchAt: (step: number) => Record<string, tf.Tensor>;
  let stepOn: (tensors: Record<string, tf.Tensor>) => () => tf.Tensor[];
  let variableCount: number;

  beforeAll(async () => {
    await useBackend("wasm");
    const examples = tinyExamples(8);
    model = LatentDiffusionModel.create(
      examples.map((e) => e.prompt),
      LIVE_CONFIG,
      3,
    );
    const { unet } = model.config;
    const per = unet.sampleSize * unet.sampleSize * unet.inChannels;
    const rng = createRng(1);
    const latents = Float32Array.from({ length: examples.length * per }, () => rng.normal());
    const batches = denoisingBatches(model, examples, latents, {
      seed: 2,
      batchSize: 4,
      promptDropout: 0.25,
      stream: "test",
    });
    batchAt = (step) => {
      const out: Record<string, tf.Tensor> = {};
      for (const [name, a] of Object.entries(batches(step).arrays)) {
        out[name] = tf.tensor(a.values, a.shape, a.dtype);
      }
      return out;
    };
    const trainable = denoiserTrainable(model.textEncoder, model.unet, "epsilon", false);
    variableCount = trainable.variables.length;
    stepOn = (tensors) => () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => trainable.loss(tensors),
          trainable.variables,
        );
        return [value, ...trainable.variables.map((v) => grads[v.name])];
      });
  });

  afterAll(() => {
    setHeapReplay(true);
    model.dispose();
  });

  /**
   * The step on batch 1 run twice by a ReplayedStep (recorded on the first call, replayed on the
   * heap after): the replay, its inputs and step, and the replayed outputs' floats.
   */
  async function replayedOnBatch1() {
    const replayed = new ReplayedStep();
    const batch = batchAt(1);
    const inputs = Object.values(batch);
    const step = stepOn(batch);
    tf.dispose(replayed.run(inputs, step));
    const tensors = replayed.run(inputs, step);
    const expected = await valuesOf(tensors);
    tf.dispose(tensors);
    return { replayed, inputs, step, expected };
  }

  /** A plan of the denoiser's step, recorded on batch 0. */
  function record(): ReplayPlan {
    const batch = batchAt(0);
    const { outputs, plan, reason } = recordStep(Object.values(batch), stepOn(batch));
    tf.dispose([...outputs, ...Object.values(batch)]);
    expect(reason).toBeUndefined();
    return plan as ReplayPlan;
  }

  nativeTest(
    "runs the step's native calls directly: the eager step's floats, nothing left",
    async () => {
      const plan = record();
      const program = heapProgramOf(plan);
      expect(program).toBeDefined();
      const actions = program?.actions ?? [];
      const runs = actions.filter((a) => a.kind === "commands");
      const calls = runs.reduce((sum, a) => sum + (a.kind === "commands" ? a.instructions : 0), 0);
      // The fused layers, norms, activations, attention and gradient sums of both passes, in a
      // few native calls; Reshapes are aliases.
      expect(calls).toBeGreaterThan(plan.instructions.length / 2);
      expect(runs.length).toBeLessThan(calls / 4);
      expect(program?.direct).toBeGreaterThan(0.9 * plan.instructions.length);
      const before = counts();
      for (const step of [1, 2]) {
        const batch = batchAt(step);
        const inputs = Object.values(batch);
        const results: number[][][] = [];
        const left = await heapLeftBy(async () => {
          for (const heap of [true, false]) {
            setHeapReplay(heap);
            const replayed = replayStep(plan, inputs) as tf.Tensor[];
            expect(replayed).toHaveLength(1 + variableCount);
            results.push(await valuesOf(replayed));
            tf.dispose(replayed);
          }
          setHeapReplay(true);
          const eager = stepOn(batch)();
          results.push(await valuesOf(eager));
          tf.dispose(eager);
        });
        expect(left).toBe(0);
        expect(results[0]).toEqual(results[2]);
        expect(results[1]).toEqual(results[2]);
        tf.dispose(inputs);
        expect(counts()).toEqual(before);
      }
    },
  );

  nativeTest(
    "copies outputs into sinks straight from the heap: the tensors' floats, none made",
    async () => {
      const plan = record();
      const { replayed, inputs, step, expected } = await replayedOnBatch1();
      const sinks = expected.map((values, i) =>
        i === 0 ? undefined : new Float32Array(values.length),
      );
      const before = counts();
      let outputs: (tf.Tensor | undefined)[] = [];
      const left = await heapLeftBy(async () => {
        outputs = await replayed.runInto(inputs, step, sinks);
      });
      expect(outputs.slice(1).every((t) => t === undefined)).toBe(true);
      expect(sinks.slice(1).map((sink) => Array.from(sink as Float32Array))).toEqual(
        expected.slice(1),
      );
      expect(await valuesOf([outputs[0] as tf.Tensor])).toEqual([expected[0]]);
      // The loss tensor holds its buffer; nothing else is left.
      expect(left).toBe(1);
      tf.dispose(outputs[0]);
      expect(counts()).toEqual({ tensors: before.tensors, records: before.records });
      // A sink of the wrong size is refused before the step runs.
      const wrong = [undefined, new Float32Array(3)];
      const refused = await heapLeftBy(async () => {
        expect(() => replayStepInto(plan, inputs, wrong)).toThrow(
          /output 1 is float32 \[.*\], its sink holds 3 floats/,
        );
      });
      expect(refused).toBe(0);
      expect(counts()).toEqual(before);
      tf.dispose(inputs);
    },
  );

  nativeTest(
    "writes results only native commands touch straight into sinks sharing one buffer",
    async () => {
      const plan = record();
      const program = heapProgramOf(plan) as HeapProgram;
      const { replayed, inputs, step, expected } = await replayedOnBatch1();
      // A replica's share: every gradient one after another on one shared buffer, but for the
      // last, which has a buffer of its own (copied into, as the heap's buffers are not its).
      const lengths = expected.slice(1).map((values) => values.length);
      const shared = new SharedArrayBuffer(4 * lengths.reduce((a, b) => a + b, 0));
      let at = 0;
      const sinks = [
        undefined,
        ...lengths.map((n) => new Float32Array(shared, 4 * at, ((at += n), n))),
      ];
      sinks[sinks.length - 1] = new Float32Array(lengths[lengths.length - 1]);
      const direct = plan.outputs.filter(({ slot }, i) => {
        const b = program.buffers[program.slotBuffers[slot]];
        return i > 0 && i < sinks.length - 1 && b.placement === "owned" && b.commandsOnly;
      }).length;
      expect(direct).toBeGreaterThan(variableCount / 2);
      const allocations = async (into: (Float32Array | undefined)[]) => {
        const use = await heapUseBy(async () => {
          tf.dispose(await replayed.runInto(inputs, step, into));
        });
        expect(use.left).toBe(0);
        return use.allocations;
      };
      const copied = await allocations(expected.map(() => undefined));
      const before = counts();
      // Each result written where its sink is takes no heap buffer of its own.
      expect(await allocations(sinks)).toBe(copied - direct);
      expect(sinks.slice(1).map((sink) => Array.from(sink as Float32Array))).toEqual(
        expected.slice(1),
      );
      expect(counts()).toEqual(before);
      tf.dispose(inputs);
    },
  );

  nativeTest(
    "the heap growing mid-replay: the grown heap read, the eager step's floats",
    async () => {
      const plan = record();
      const actions = heapProgramOf(plan)?.actions ?? [];
      const kernels = actions.filter((a) => a.kind === "kernel") as { instruction: object }[];
      const step = kernels[Math.floor(kernels.length / 2)];
      const wasm = (tf.backend() as unknown as { wasm: WasmModule & { HEAPU8: Uint8Array } }).wasm;
      const { config } = step.instruction as { config: tf.KernelConfig };
      // Mid-way, an allocation larger than the whole heap: the heap must grow (and move).
      const undo = swap(step.instruction, "config", {
        ...config,
        kernelFunc: (args: Parameters<tf.KernelFunc>[0]) => {
          wasm._free(wasm._malloc(wasm.HEAPU8.length));
          return config.kernelFunc(args);
        },
      });
      const batch = batchAt(2);
      const inputs = Object.values(batch);
      const before = counts();
      try {
        const heap = wasm.HEAPU8.buffer;
        const replayed = replayStep(plan, inputs) as tf.Tensor[];
        expect(wasm.HEAPU8.buffer).not.toBe(heap);
        const eager = stepOn(batch)();
        expect(await valuesOf(replayed)).toEqual(await valuesOf(eager));
        tf.dispose([...replayed, ...eager]);
      } finally {
        undo();
      }
      expect(counts()).toEqual(before);
      tf.dispose(inputs);
    },
  );

  nativeTest("a native call or a kernel that throws mid-replay leaves nothing behind", async () => {
    const plan = record();
    const program = heapProgramOf(plan) as HeapProgram;
    const batch = batchAt(1);
    const inputs = Object.values(batch);
    const before = counts();
    const middle = (kind: string) => {
      const ofKind = program.actions.filter((a) => a.kind === kind);
      return ofKind[Math.floor(ofKind.length / 2)];
    };
    const run = middle("commands") as Extract<HeapAction, { kind: "commands" }>;
    // A command the addon does not know, mid-way through a run of them.
    const unknown = program.commands.slice();
    unknown[run.begin] = 99;
    const kernel = middle("kernel") as Extract<HeapAction, { kind: "kernel" }>;
    const failing = () => {
      throw new Error("kernel failed");
    };
    for (const [undo, message] of [
      [() => swap(program, "commands", unknown), /command 0 of the run: unknown operation 99/],
      [() => swap(kernel.instruction, "config", { kernelFunc: failing }), /kernel failed/],
    ] as const) {
      const put = undo();
      try {
        const left = await heapLeftBy(async () => {
          expect(() => replayStep(plan, inputs)).toThrow(message);
        });
        expect(left).toBe(0);
        expect(counts()).toEqual(before);
      } finally {
        put();
      }
    }
    // The program still runs once the failing step is put back.
    tf.dispose(replayStep(plan, inputs) as tf.Tensor[]);
    expect(counts()).toEqual(before);
    tf.dispose(inputs);
  });

  nativeTest("buffers alive at once never share bytes of the step's block; the rest do", () => {
    const program = heapProgramOf(record()) as HeapProgram;
    const arena = program.buffers.filter((b) => b.placement === "arena");
    expect(arena.length).toBeGreaterThan(100);
    let live = 0;
    for (const [i, a] of arena.entries()) {
      expect(a.offset % 64).toBe(0);
      expect(a.offset + a.bytes).toBeLessThanOrEqual(program.arenaBytes);
      for (const b of arena.slice(i + 1)) {
        const together = a.first <= b.last && b.first <= a.last;
        const apart = a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset;
        if (together) expect(apart).toBe(true);
      }
    }
    // The most bytes alive at one instruction bounds the block from below; sharing keeps it
    // well under every buffer's own bytes.
    const last = Math.max(...arena.map((b) => b.last));
    for (let at = 0; at <= last; at++) {
      const bytes = arena.filter((b) => b.first <= at && at <= b.last).map((b) => b.bytes);
      live = Math.max(
        live,
        bytes.reduce((x, y) => x + y, 0),
      );
    }
    const total = arena.reduce((sum, b) => sum + b.bytes, 0);
    expect(program.arenaBytes).toBeGreaterThanOrEqual(live);
    expect(program.arenaBytes).toBeLessThan(total / 2);
  });
});

/** The plan replayed on the heap with `sinks`. */
function replayStepInto(
  plan: ReplayPlan,
  inputs: tf.Tensor[],
  sinks: (Float32Array | undefined)[],
) {
  return runHeapProgram(
    heapProgramOf(plan) as NonNullable<ReturnType<typeof heapProgramOf>>,
    plan,
    inputs,
    sinks,
  );
}

/** Sets `object[key]` to `value`; returns what puts the old value back. */
function swap(object: object, key: string, value: unknown): () => void {
  const target = object as Record<string, unknown>;
  const old = target[key];
  target[key] = value;
  return () => (target[key] = old);
}
