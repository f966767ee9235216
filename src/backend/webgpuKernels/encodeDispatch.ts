/**
 * One compute dispatch of our own WGSL, encoded into tfjs-webgpu's command stream. tfjs's
 * programs (webgpuProgram.ts) bind their inputs read-only and write one output, so a kernel with
 * several outputs costs a dispatch per output and a reduction over many tensors a dispatch per
 * tensor: on a GPU, where each dispatch costs far more than its arithmetic, the multi-tensor
 * AdamW took 3 dispatches per variable and the gradient norm ~2. Here a shader binds what it
 * needs (any number of outputs, read-write buffers), while the backend keeps owning every
 * buffer, batching dispatches into its compute pass and submitting them as its own.
 *
 * This reaches into tfjs-webgpu 4.22's backend (package.json pins the version): its tensor map,
 * uploads, uniforms, command encoder and pass, as `recordAndSubmit` uses them.
 */
import { env, type DataType, type TensorInfo } from "@tensorflow/tfjs-core";
import type { ProgramUniform } from "./webgpuProgram";

interface GpuBuffer {
  readonly size: number;
}
interface ComputePass {
  setPipeline(pipeline: object): void;
  setBindGroup(index: number, group: object): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}
interface GpuDevice {
  limits: { maxStorageBuffersPerShaderStage: number; maxComputeWorkgroupsPerDimension: number };
  createShaderModule(descriptor: { code: string }): object;
  createComputePipeline(descriptor: {
    layout: "auto";
    compute: { module: object; entryPoint: string };
  }): { getBindGroupLayout(index: number): object };
  createBindGroup(descriptor: {
    layout: object;
    entries: { binding: number; resource: object }[];
  }): object;
}

/** What of tfjs-webgpu's backend a dispatch uses (its recordAndSubmit's own steps). */
export interface WebgpuBackendInternals {
  device: GpuDevice;
  tensorMap: { get(dataId: object): { resource: GpuBuffer | null } };
  commandQueueOwnedIds: WeakSet<object>;
  computePassEncoder: ComputePass | null;
  commandEncoder: { beginComputePass(descriptor: object): ComputePass } | null;
  dispatchCountInPass: number;
  makeTensorInfo(shape: number[], dtype: DataType, values?: Int32Array | Float32Array): TensorInfo;
  uploadToGPU(dataId: object): void;
  makeUniforms(uniforms: ProgramUniform[]): object;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: object): void;
}

/** Scalar uniforms of one type, in the order the shader's Uniforms struct declares them. */
export const int32Uniforms = (values: number[]): ProgramUniform[] =>
  values.map((v) => ({ type: "int32", data: [v] }));
export const float32Uniforms = (values: number[]): ProgramUniform[] =>
  values.map((v) => ({ type: "float32", data: [v] }));

export interface Dispatch {
  /** Names the shader in the pipeline cache: the same key must always mean the same code. */
  key: string;
  /** The whole WGSL module; entry point `main`; storage bindings 0… in `buffers`' order, then
   * the uniforms (if any) at the next binding. Every binding must be used by the code. */
  code: () => string;
  /** Tensors bound as storage buffers, in binding order (uploaded first where needed). */
  buffers: TensorInfo[];
  uniforms?: ProgramUniform[];
  workgroups: [number, number, number];
}

const pipelines = new WeakMap<
  GpuDevice,
  Map<string, ReturnType<GpuDevice["createComputePipeline"]>>
>();

function pipelineFor(device: GpuDevice, key: string, code: () => string) {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let pipeline = cache.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ code: code() });
    pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** Encodes `dispatch` after everything the backend has encoded so far (GPU order = call order). */
export function encodeDispatch(backend: WebgpuBackendInternals, dispatch: Dispatch): void {
  const entries = dispatch.buffers.map((tensor, binding) => {
    backend.uploadToGPU(tensor.dataId);
    const buffer = backend.tensorMap.get(tensor.dataId).resource;
    if (!buffer) throw new Error(`${dispatch.key}: binding ${binding} has no GPU buffer`);
    // Kept alive (not released to the pool) until the dispatch is submitted.
    backend.commandQueueOwnedIds.add(tensor.dataId);
    return { binding, resource: { buffer } as object };
  });
  if (dispatch.uniforms) {
    entries.push({ binding: entries.length, resource: backend.makeUniforms(dispatch.uniforms) });
  }
  const pipeline = pipelineFor(backend.device, dispatch.key, dispatch.code);
  const group = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) {
    backend.computePassEncoder = backend.commandEncoder!.beginComputePass({});
  }
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, group);
  backend.computePassEncoder.dispatchWorkgroups(...dispatch.workgroups);
  backend.dispatchCountInPass++;
  if (backend.dispatchCountInPass >= (env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE") as number)) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

/** A new tensor's buffer, on the GPU (contents undefined unless `values` are given). */
export function gpuTensor(
  backend: WebgpuBackendInternals,
  shape: number[],
  dtype: DataType,
  values?: Int32Array | Float32Array,
): TensorInfo {
  const info = backend.makeTensorInfo(shape, dtype, values);
  backend.uploadToGPU(info.dataId);
  return info;
}

/**
 * Workgroups for `invocations` threads in groups of `size`, folded into y where x would pass the
 * device's limit per dimension; the shader's linear index is then x + y · (x-count · size).
 */
export function workgroupsFor(
  backend: WebgpuBackendInternals,
  invocations: number,
  size: number,
): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / size));
  const limit = backend.device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= limit) return [groups, 1, 1];
  const x = limit;
  return [x, Math.ceil(groups / x), 1];
}
