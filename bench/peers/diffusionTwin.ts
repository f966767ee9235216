/**
 * Talking to bench/peers/diffusion_twin.py, the PyTorch twin of fairdiff's text encoder, UNet and
 * autoencoder decoder: tensors travel as PREFIX.json (names, shapes, offsets) + PREFIX.bin
 * (little-endian float32, fairdiff's NHWC / [in, out] layouts); the twin converts layouts itself.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { NamedWeights } from "../../src/models/module";
import { perSampleDenoisingLoss, weightedMean } from "../../src/pipeline/denoiserReplica";
import type { LatentDiffusionModel } from "../../src/pipeline/latentDiffusionModel";
import { NoiseSchedule } from "../../src/schedulers/noiseSchedule";
import { createRng } from "../../src/util/random";
import { peerPython, peerScriptPath } from "./python";

export interface TensorData {
  values: Float32Array;
  shape: number[];
}

export type TensorInput = { values: ArrayLike<number>; shape: number[] };

interface ManifestEntry {
  name: string;
  shape: number[];
  offset: number;
}

export function writeTensors(prefix: string, tensors: Record<string, TensorInput>): void {
  const entries: ManifestEntry[] = [];
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) {
      throw new Error(`tensor ${name}: ${t.values.length} values for shape [${t.shape}]`);
    }
    entries.push({ name, shape: t.shape, offset: total });
    total += size;
  }
  const flat = new Float32Array(total);
  entries.forEach((e, i) => flat.set(Object.values(tensors)[i].values, e.offset));
  // Float32Array is little-endian on every platform Node runs on that we support.
  fs.writeFileSync(`${prefix}.bin`, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  fs.writeFileSync(`${prefix}.json`, JSON.stringify({ tensors: entries }));
}

export function readTensors(prefix: string): Record<string, TensorData> {
  const manifest = JSON.parse(fs.readFileSync(`${prefix}.json`, "utf8")) as {
    tensors: ManifestEntry[];
  };
  const bytes = fs.readFileSync(`${prefix}.bin`);
  const flat = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  );
  const out: Record<string, TensorData> = {};
  for (const e of manifest.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    out[e.name] = { values: flat.slice(e.offset, e.offset + size), shape: e.shape };
  }
  return out;
}

/** The twin script (bench/peers/diffusion_twin.py). */
export function twinScript(): string {
  return peerScriptPath("diffusion_twin.py");
}

/** What the twin needs to build the same networks. */
export function twinConfig(model: LatentDiffusionModel): Record<string, unknown> {
  return {
    unet: model.config.unet,
    textEncoder: model.config.textEncoder,
    autoencoder: model.config.autoencoder,
    vocabularySize: model.tokenizer.vocabularySize,
    maxLength: model.tokenizer.maxLength,
  };
}

/**
 * Weights the twin loads: text.*, unet.* and the decoder half of autoencoder.* (the twin has no
 * encoder: sampling only decodes).
 */
export async function twinWeights(
  model: LatentDiffusionModel,
): Promise<Record<string, TensorInput>> {
  const out: Record<string, TensorInput> = {};
  for (const [prefix, module] of [
    ["text", model.textEncoder],
    ["unet", model.unet],
    ["autoencoder", model.autoencoder],
  ] as const) {
    const weights = await module.getWeights();
    for (const [name, v] of module.namedParameters()) {
      if (prefix === "autoencoder" && !name.startsWith("decoder")) continue;
      out[`${prefix}.${name}`] = { values: weights[name], shape: v.shape };
    }
  }
  return out;
}

/** Largest |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function maxAbs(a: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]));
  return worst;
}

export interface TwinComparison {
  /** Largest |ours − twin| per output; gradients over every parameter. */
  maxAbsDiff: { text: number; unet: number; decoded: number; loss: number; gradients: number };
  /** Largest |ours| per output, for scale. */
  maxAbs: { text: number; unet: number; decoded: number; loss: number; gradients: number };
  /** Gradient entries compared. */
  gradientValues: number;
}

/** Every LayerNorm / GroupNorm γ and β moved off 1 and 0, so their layout is tested too. */
export function perturbNorms(model: LatentDiffusionModel, seed: number): void {
  const rng = createRng(seed);
  for (const module of [model.textEncoder, model.unet, model.autoencoder]) {
    const update: NamedWeights = {};
    for (const [name, v] of module.namedParameters()) {
      const base = name.endsWith(".gamma") ? 1 : name.endsWith(".beta") ? 0 : undefined;
      if (base === undefined) continue;
      update[name] = Float32Array.from({ length: v.size }, () => base + 0.2 * rng.normal());
    }
    module.setWeights(update, { strict: false });
  }
}

/**
 * Runs text encoder → UNet, the decoder, and the training loss with its gradients here and in
 * the PyTorch twin on the same weights and inputs, and compares. `dir` is a scratch folder.
 */
export async function compareWithTwin(
  model: LatentDiffusionModel,
  prompts: string[],
  seed: number,
  dir: string,
): Promise<TwinComparison> {
  const rng = createRng(seed);
  const batch = prompts.length;
  const { sampleSize, inChannels } = model.config.unet;
  const latentShape = [batch, sampleSize, sampleSize, inChannels];
  const per = sampleSize * sampleSize * inChannels;
  const normals = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const schedule = new NoiseSchedule(model.config.noise);
  const timesteps = Float32Array.from({ length: batch }, (_, i) =>
    Math.round(((schedule.trainTimesteps - 1) * i) / Math.max(1, batch - 1)),
  );
  const encoded = model.tokenizer.encode(prompts, { overflow: "truncate" });
  const inputs = {
    latents: { values: normals(batch * per), shape: latentShape },
    noise: { values: normals(batch * per), shape: latentShape },
    timesteps: { values: timesteps, shape: [batch] },
    signal: {
      values: timesteps.map((t) => Math.sqrt(schedule.alphaBar(t))),
      shape: [batch],
    },
    spread: {
      values: timesteps.map((t) => Math.sqrt(1 - schedule.alphaBar(t))),
      shape: [batch],
    },
    tokenIds: { values: encoded.ids, shape: [batch, encoded.maxLength] },
    tokenMask: { values: encoded.mask, shape: [batch, encoded.maxLength] },
  };

  const named: [string, tf.Variable][] = [
    ...model.textEncoder.namedParameters().map(([n, v]): [string, tf.Variable] => [`text.${n}`, v]),
    ...model.unet.namedParameters().map(([n, v]): [string, tf.Variable] => [`unet.${n}`, v]),
  ];
  const kept = tf.tidy(() => {
    const t: Record<string, tf.Tensor> = {};
    for (const [name, x] of Object.entries(inputs)) {
      t[name] = tf.tensor(x.values, x.shape, name === "tokenIds" ? "int32" : "float32");
    }
    const text = model.textEncoder.encodeIds(t.tokenIds as tf.Tensor2D, t.tokenMask as tf.Tensor2D);
    const unet = model.unet.apply(
      t.latents as tf.Tensor4D,
      t.timesteps as tf.Tensor1D,
      text.embeddings,
      text.mask,
    );
    const decoded = model.autoencoder.latentsToImages(t.latents as tf.Tensor4D);
    const { value, grads } = tf.variableGrads(
      () =>
        weightedMean(
          perSampleDenoisingLoss(
            model.textEncoder,
            model.unet,
            model.config.noise.predictionType,
            t,
          ),
        ),
      named.map(([, v]) => v),
    );
    return [text.embeddings, unet, decoded, value, ...named.map(([, v]) => grads[v.name])];
  });
  const [text, unet, decoded, loss, ...gradients] = await Promise.all(
    kept.map(async (t) => (await t.data()).slice()),
  );
  tf.dispose(kept);
  const ours = { text, unet, decoded, loss, gradients };

  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(twinConfig(model)));
  writeTensors(path.join(dir, "weights"), await twinWeights(model));
  writeTensors(path.join(dir, "inputs"), inputs);
  execFileSync(peerPython(), [twinScript(), "check", dir], { encoding: "utf8" });
  const theirs = readTensors(path.join(dir, "outputs"));

  let gradientDiff = 0;
  let gradientMax = 0;
  let gradientValues = 0;
  named.forEach(([name], i) => {
    const twin = theirs[`grad:${name}`];
    if (!twin) throw new Error(`the twin returned no gradient for ${name}`);
    gradientDiff = Math.max(gradientDiff, maxAbsDiff(ours.gradients[i], twin.values));
    gradientMax = Math.max(gradientMax, maxAbs(ours.gradients[i]));
    gradientValues += twin.values.length;
  });
  const outputs = ["text", "unet", "decoded", "loss"] as const;
  const diff = Object.fromEntries(
    outputs.map((k) => [k, maxAbsDiff(ours[k], theirs[k].values)]),
  ) as Record<(typeof outputs)[number], number>;
  const scale = Object.fromEntries(outputs.map((k) => [k, maxAbs(ours[k])])) as Record<
    (typeof outputs)[number],
    number
  >;
  return {
    maxAbsDiff: { ...diff, gradients: gradientDiff },
    maxAbs: { ...scale, gradients: gradientMax },
    gradientValues,
  };
}
