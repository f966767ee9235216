/**
 * Runs a kernel the wasm backend lacks on a private cpu backend: inputs are copied out of the
 * wasm heap, the cpu kernel runs, the result is copied back. Correct but not fast; used only
 * for kernels off the default model's hot path (depthwise conv gradients).
 */
import { getKernel, type KernelConfig, type TensorInfo } from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { WasmBackendLike } from "../backendScope";

let cpu: MathBackendCPU | undefined;

function cpuBackend(): MathBackendCPU {
  if (!cpu) {
    cpu = new MathBackendCPU();
    // Silence its "install tfjs-node" notice: this backend is private to the fallback.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
  }
  return cpu;
}

export function cpuFallbackConfig(kernelName: string): KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: (args) => {
      const cpuKernel = getKernel(kernelName, "cpu");
      if (!cpuKernel) throw new Error(`no cpu kernel ${kernelName} to fall back on`);
      const wasm = args.backend as WasmBackendLike;
      const host = cpuBackend();
      const cpuInputs: Record<string, TensorInfo> = {};
      for (const [name, info] of Object.entries(args.inputs)) {
        if (!info) continue;
        const values = wasm.typedArrayFromHeap(info).slice();
        cpuInputs[name] = { ...info, dataId: host.write(values, info.shape, info.dtype) };
      }
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs, backend: host, attrs: args.attrs });
      const outputs = Array.isArray(result) ? result : [result];
      const copied = outputs.map((o) => {
        const out = wasm.makeOutput(o.shape, o.dtype);
        wasm.typedArrayFromHeap(out).set(host.readSync(o.dataId) as Float32Array);
        host.disposeData(o.dataId, true);
        return out;
      });
      for (const info of Object.values(cpuInputs)) host.disposeData(info.dataId, true);
      return Array.isArray(result) ? copied : copied[0];
    },
  };
}
