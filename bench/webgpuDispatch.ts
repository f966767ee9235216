/**
 * Where a WebGPU kernel's time goes under Node (`npm run bench -- webgpu-dispatch [N]`): the
 * per-dispatch cost of a tiny 64-element kernel, built up one ingredient at a time from Dawn's
 * floor to what tfjs-webgpu does for every op (its runWebGPUProgram: a uniform buffer written
 * with queue.writeBuffer, a new bind group, a new output buffer, a submit every 15 dispatches),
 * then a chain of tfjs ops. On the H100 a tfjs op cost ~0.5–1 ms while a dispatch costs µs on
 * lavapipe: the step between two rows is what costs there. Each row: N dispatches, timed from
 * the first call to the queue's completion, µs per dispatch.
 */
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../src/backend";
import { installWebgpu } from "../src/backend/webgpuAdapter";
import { median } from "./median";

/** The few WebGPU objects and constants used here (the project carries no DOM types). */
interface Buffer {
  destroy(): void;
}
interface Pass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number): void;
  end(): void;
}
interface Encoder {
  beginComputePass(): Pass;
  finish(): unknown;
}
interface Device {
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
  createBuffer(d: { size: number; usage: number }): Buffer;
  createBindGroup(d: object): unknown;
  createCommandEncoder(): Encoder;
  queue: {
    submit(c: unknown[]): void;
    writeBuffer(b: Buffer, offset: number, data: ArrayBufferView): void;
    onSubmittedWorkDone(): Promise<void>;
  };
}
interface Usage {
  STORAGE: number;
  UNIFORM: number;
  COPY_DST: number;
  COPY_SRC: number;
}

const SHADER = `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@group(0) @binding(1) var<uniform> step: vec4f;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  data[g.x] = data[g.x] + step.x;
}`;

/** One way of issuing a dispatch: what it does before the pass's dispatch, and when it submits. */
interface Recipe {
  name: string;
  newBindGroup?: boolean;
  writeUniform?: boolean;
  newOutputBuffer?: boolean;
  /** Submit (and start a new encoder and pass) after this many dispatches; 0: once at the end. */
  submitEvery: number;
}

const RECIPES: Recipe[] = [
  { name: "raw Dawn, one pass, one submit", submitEvery: 0 },
  { name: "+ a new bind group each", newBindGroup: true, submitEvery: 0 },
  {
    name: "+ a uniform written each (writeBuffer)",
    newBindGroup: true,
    writeUniform: true,
    submitEvery: 0,
  },
  {
    name: "+ a new output buffer each",
    newBindGroup: true,
    writeUniform: true,
    newOutputBuffer: true,
    submitEvery: 0,
  },
  {
    name: "+ a submit every 15 (tfjs-webgpu's default)",
    newBindGroup: true,
    writeUniform: true,
    newOutputBuffer: true,
    submitEvery: 15,
  },
  { name: "raw Dawn, a submit each", submitEvery: 1 },
];

type Pipeline = ReturnType<Device["createComputePipeline"]>;

async function perDispatchUs(
  device: Device,
  usage: Usage,
  pipeline: Pipeline,
  recipe: Recipe,
  n: number,
) {
  const layout = pipeline.getBindGroupLayout(0);
  const storage = () => device.createBuffer({ size: 256, usage: usage.STORAGE | usage.COPY_SRC });
  const data = storage();
  const uniform = device.createBuffer({ size: 16, usage: usage.UNIFORM | usage.COPY_DST });
  const uniformValue = new Float32Array([1, 0, 0, 0]);
  const bindGroup = (target: Buffer) =>
    device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: target } },
        { binding: 1, resource: { buffer: uniform } },
      ],
    });
  const fixed = bindGroup(data);
  const made: Buffer[] = [];
  const start = performance.now();
  let encoder = device.createCommandEncoder();
  let pass = encoder.beginComputePass();
  for (let i = 0; i < n; i++) {
    if (recipe.writeUniform) device.queue.writeBuffer(uniform, 0, uniformValue);
    let target = data;
    if (recipe.newOutputBuffer) {
      target = storage();
      made.push(target);
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, recipe.newBindGroup ? bindGroup(target) : fixed);
    pass.dispatchWorkgroups(1);
    if (recipe.submitEvery > 0 && (i + 1) % recipe.submitEvery === 0) {
      pass.end();
      device.queue.submit([encoder.finish()]);
      encoder = device.createCommandEncoder();
      pass = encoder.beginComputePass();
    }
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  const us = ((performance.now() - start) * 1000) / n;
  for (const b of [data, uniform, ...made]) b.destroy();
  return us;
}

/** A chain of tf.add on 4,096 floats: above tfjs-webgpu's CPU hand-off size, so on the GPU. */
async function tfjsOpUs(n: number): Promise<number> {
  let x = tf.ones([4096]);
  const one = tf.ones([4096]);
  await x.data();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const next = tf.add(x, one);
    x.dispose();
    x = next;
  }
  await x.data();
  const us = ((performance.now() - start) * 1000) / n;
  tf.dispose([x, one]);
  return us;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 500);
  if (!Number.isInteger(n) || n < 15) throw new Error(`usage: webgpu-dispatch [N ≥ 15]; got ${n}`);
  const probe = await installWebgpu();
  if (!probe.available || !probe.adapter) {
    console.log(`webgpu-dispatch: not measured — ${probe.reason}`);
    return;
  }
  // Dawn hands out one device per adapter: the raw rows use the one tfjs-webgpu made.
  await useBackend("webgpu");
  const device = (tf.backend() as unknown as { device: Device }).device;
  const usage = (globalThis as unknown as { GPUBufferUsage: Usage }).GPUBufferUsage;
  console.log(`adapter: ${probe.adapter.name}${probe.adapter.software ? " (software)" : ""}`);
  console.log(`µs per dispatch of a 64-element kernel, ${n} dispatches a row (median of 5):`);
  const medianOf5 = async (run: () => Promise<number>) => {
    const runs = [];
    for (let r = 0; r < 5; r++) runs.push(await run());
    return median(runs).toFixed(1).padStart(8);
  };
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: "main" },
  });
  for (const recipe of RECIPES) {
    await perDispatchUs(device, usage, pipeline, recipe, 15); // warm-up: allocations, JIT
    const us = await medianOf5(() => perDispatchUs(device, usage, pipeline, recipe, n));
    console.log(`  ${recipe.name.padEnd(46)} ${us}`);
  }
  await tfjsOpUs(15);
  const us = await medianOf5(() => tfjsOpUs(n));
  console.log(`  ${"tfjs-webgpu: a chain of tf.add (4,096 floats)".padEnd(46)} ${us}`);
}
