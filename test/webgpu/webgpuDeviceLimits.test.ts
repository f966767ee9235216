/**
 * The WebGPU device tfjs-webgpu creates binds as many storage buffers per shader as the adapter
 * allows (tfjs asks for WebGPU's default 8): fairdiff's multi-tensor kernels size their
 * dispatches by it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { inspectWebgpuAdapterSync, useBackend } from "../../src/backend";
import { testWhen } from "../helpers/requirements";

const LAVAPIPE =
  "a WebGPU adapter: Mesa 25 lavapipe from bookworm-backports (mesa-vulkan-drivers, libvulkan1)";

testWhen(inspectWebgpuAdapterSync().available, LAVAPIPE)(
  "the device has the adapter's storage-buffer limit",
  async () => {
    await useBackend("webgpu");
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } })
      .navigator!.gpu!;
    const adapter = (await gpu.requestAdapter()) as { limits: Record<string, number> };
    const device = (tf.backend() as unknown as { device: { limits: Record<string, number> } })
      .device;
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(
      adapter.limits.maxStorageBuffersPerShaderStage,
    );
    await useBackend("wasm");
  },
  120_000,
);
