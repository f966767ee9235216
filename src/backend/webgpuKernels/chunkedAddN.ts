/**
 * AddN for WebGPU that respects the device's storage-buffer limit. tfjs-webgpu 4.22 binds every
 * input of AddN in one shader; with more inputs than `maxStorageBuffersPerShaderStage − 1` (7 on
 * lavapipe and many GPUs) the pipeline is invalid and the sum silently comes back as zeros (a
 * gradient norm over 16 variables did). This sums in chunks that fit, then sums the partials.
 */
import type {
  KernelConfig,
  KernelFunc,
  NamedTensorInfoMap,
  TensorInfo,
} from "@tensorflow/tfjs-core";

interface WebgpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

export function chunkedAddNConfig(stock: KernelConfig): KernelConfig {
  const stockAddN = stock.kernelFunc;
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const webgpu = backend as unknown as WebgpuBackendLike;
    // One binding is the output.
    const perDispatch = Math.max(2, webgpu.device.limits.maxStorageBuffersPerShaderStage - 1);
    // AddN's inputs arrive as an array (tfjs passes the list itself as the input map).
    const sum = (terms: TensorInfo[]) =>
      stockAddN({ inputs: terms as unknown as NamedTensorInfoMap, backend, attrs }) as TensorInfo;
    let terms = Object.values(inputs) as TensorInfo[];
    const partials: TensorInfo[] = [];
    while (terms.length > perDispatch) {
      const next: TensorInfo[] = [];
      for (let start = 0; start < terms.length; start += perDispatch) {
        const chunk = terms.slice(start, start + perDispatch);
        if (chunk.length === 1) {
          next.push(chunk[0]);
          continue;
        }
        const partial = sum(chunk);
        partials.push(partial);
        next.push(partial);
      }
      terms = next;
    }
    const result = sum(terms);
    for (const partial of partials) webgpu.disposeData(partial.dataId);
    return result;
  };
  return { kernelName: stock.kernelName, backendName: "webgpu", kernelFunc };
}
