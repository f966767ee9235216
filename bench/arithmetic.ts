/**
 * `npm run bench -- arithmetic [reps]`: the arithmetic under a cxr-mini training step on
 * tfjs-wasm against PyTorch, kernel for kernel, one thread each, measured in the same run. It
 * records every convolution of one denoiser training step (batch 32, through tf.profile: input,
 * filter and output shapes), then times each alone, forward and both gradients, here and in
 * PyTorch (bench/peers/conv_torch.py), and one matrix product of the step's size. What it shows:
 * how far the engine's own kernels, not fairdiff's use of them, keep a training step from
 * PyTorch's time — today a step's convolutions alone cost about PyTorch's whole step.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, useBackend } from "../src/backend";
import { FUSED_CONV, FUSED_CONV_ADD } from "../src/backend/fusedKernels/fusedConv2d";
import { setNativeThreads } from "../src/backend/nativeKernels/nativeAddon";
import { nativeKernelsActive } from "../src/backend/nativeKernels/registerNativeKernels";
import { shippedModelPath } from "../src/features";
import { LatentDiffusionModel } from "../src/pipeline/latentDiffusionModel";
import { CXR_MINI } from "../src/pipeline/presets";
import { denoiserTraining } from "../src/pipeline/trainDenoiser";
import { presetExamples } from "../src/pipeline/trainPreset";
import { median } from "./median";
import { peerHasModules, peerScriptPath, runPeerJson } from "./peers/python";

/** One convolution as the training step ran it (NHWC; filter [kh, kw, in, out]). */
export interface ConvCall {
  x: number[];
  filter: number[];
  stride: number;
  /** How many times one training step runs it. */
  count: number;
}

/** Milliseconds per call, summed over a step's calls. */
export interface ConvTimes {
  forward: number;
  backpropInput: number;
  backpropFilter: number;
}

interface PeerResult {
  convs: ConvTimes;
  gemmGflops: number;
  torch: string;
}

const GEMM: [number, number, number] = [2048, 576, 64];

/** The kernels a step's convolutions run as: fairdiff's fused ones, or tfjs's where unfused. */
const CONVOLUTIONS = new Set(["Conv2D", "FusedConv2D", FUSED_CONV, FUSED_CONV_ADD]);

/** The convolutions of one denoiser training step at batch 32, with their counts. */
async function trainingStepConvs(): Promise<ConvCall[]> {
  const examples = presetExamples(CXR_MINI, 64);
  const model = LatentDiffusionModel.load(shippedModelPath("cxr-mini.fdckpt"));
  const run = denoiserTraining(model, examples, { steps: 2, batchSize: 32, seed: 1, replicas: 1 });
  const calls = new Map<string, ConvCall>();
  let steps = 0;
  for (;;) {
    let result: IteratorResult<{ kind: string }> | undefined;
    const profile = await tf.profile(async () => {
      result = await run.next();
      return tf.scalar(0);
    });
    if (!result || result.done) break;
    if (result.value.kind !== "step" || ++steps < 2) continue;
    for (const k of profile.kernels) {
      if (!CONVOLUTIONS.has(k.name)) continue;
      const [x, filter] = k.inputShapes as number[][];
      const stride = x[1] / (k.outputShapes[0] as number[])[1];
      const key = JSON.stringify([x, filter, stride]);
      const call = calls.get(key) ?? { x, filter, stride, count: 0 };
      call.count += 1;
      calls.set(key, call);
    }
  }
  model.dispose();
  return [...calls.values()];
}

/** Median milliseconds of `f` over `reps` runs after two warm-ups (wasm runs synchronously). */
function timeMs(reps: number, f: () => tf.Tensor): number {
  for (let i = 0; i < 2; i++) f().dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    f().dispose();
    times.push(performance.now() - start);
  }
  return median(times);
}

function tfjsConvTimes(calls: ConvCall[], reps: number): ConvTimes {
  const total: ConvTimes = { forward: 0, backpropInput: 0, backpropFilter: 0 };
  for (const call of calls) {
    const [b, h, w] = call.x;
    const out = call.filter[3];
    type Shape4 = [number, number, number, number];
    const x = tf.randomNormal(call.x as Shape4) as tf.Tensor4D;
    const filter = tf.randomNormal(call.filter as Shape4) as tf.Tensor4D;
    const bias = tf.randomNormal([out]) as tf.Tensor1D;
    const dy = tf.randomNormal([b, h / call.stride, w / call.stride, out]) as tf.Tensor4D;
    const strides: [number, number] = [call.stride, call.stride];
    const conv = { strides, pad: "same" as const, dataFormat: "NHWC" as const };
    /** One gradient kernel, called as the tape calls it. */
    const gradient = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () =>
      tf.engine().runKernel(name, inputs, { ...conv, ...attrs } as tf.NamedAttrMap) as tf.Tensor;
    total.forward += call.count * timeMs(reps, () => tf.fused.conv2d({ x, filter, bias, ...conv }));
    total.backpropInput +=
      call.count *
      timeMs(reps, gradient("Conv2DBackpropInput", { dy, filter }, { inputShape: call.x }));
    total.backpropFilter +=
      call.count *
      timeMs(reps, gradient("Conv2DBackpropFilter", { x, dy }, { filterShape: call.filter }));
    tf.dispose([x, filter, bias, dy]);
  }
  return total;
}

function tfjsGemmGflops(reps: number): number {
  const [m, k, n] = GEMM;
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const ms = timeMs(reps, () => tf.matMul(a, b));
  tf.dispose([a, b]);
  return (2 * m * k * n) / ms / 1e6;
}

const row = (label: string, ours: number, peer: number | undefined) =>
  `${label.padEnd(22)} ${ours.toFixed(1).padStart(8)} ms ${
    peer === undefined ? "       n/a" : `${peer.toFixed(1).padStart(8)} ms`
  } ${peer === undefined ? "" : `${(ours / peer).toFixed(2)}×`}`;

export async function main(args: string[]): Promise<void> {
  const reps = Number(args[0] ?? 15);
  console.log(describeBackend(await useBackend("wasm")));
  // One thread each: fairdiff's native kernels (when built) with a pool of one.
  if (nativeKernelsActive()) setNativeThreads(1);
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  const calls = await trainingStepConvs();
  const count = calls.reduce((n, c) => n + c.count, 0);
  console.log(
    `convolutions of one cxr-mini denoiser training step (batch 32): ${count} calls, ${calls.length} distinct shapes; one thread each`,
  );
  const ours = tfjsConvTimes(calls, reps);
  const gemm = tfjsGemmGflops(reps);

  let peer: PeerResult | undefined;
  if (peerHasModules(["torch"])) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fairdiff-bench-arithmetic-"));
    try {
      const file = path.join(dir, "convs.json");
      fs.writeFileSync(file, JSON.stringify({ calls, gemm: GEMM, reps }));
      peer = runPeerJson<PeerResult>(peerScriptPath("conv_torch.py"), [file]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`peer: PyTorch ${peer.torch}, 1 thread`);
  } else {
    console.log("peer: PyTorch not measured (apt install python3-torch)");
  }
  console.log(
    `${"per training step".padEnd(22)} ${"tfjs-wasm".padStart(11)} ${"PyTorch".padStart(11)} ratio`,
  );
  console.log(row("conv forward", ours.forward, peer?.convs.forward));
  console.log(row("conv backprop input", ours.backpropInput, peer?.convs.backpropInput));
  console.log(row("conv backprop filter", ours.backpropFilter, peer?.convs.backpropFilter));
  const sum = (t: ConvTimes) => t.forward + t.backpropInput + t.backpropFilter;
  console.log(row("convolutions in all", sum(ours), peer && sum(peer.convs)));
  const [m, k, n] = GEMM;
  console.log(
    `matrix product ${m}×${k}×${n}: tfjs-wasm ${gemm.toFixed(1)} GFLOP/s${
      peer
        ? `, PyTorch ${peer.gemmGflops.toFixed(1)} GFLOP/s (${(peer.gemmGflops / gemm).toFixed(2)}×)`
        : ""
    }`,
  );
}
