/**
 * Makes the wasm backend able to train conv nets: adds the gradient kernels it lacks and
 * replaces its slow naive Conv2DBackpropInput, its row-by-row Concat and SplitV, and its slow
 * GatherV2. Idempotent.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
} from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterConfig } from "./conv2dBackpropFilter";
import { conv2dBackpropInputConfig } from "./conv2dBackpropInput";
import { unsortedSegmentSumConfig } from "./unsortedSegmentSum";
import { cpuFallbackConfig } from "./cpuFallback";
import { batchMatMulExplicitTransposeConfig } from "./batchMatMulExplicitTranspose";
import { concatSplitConfigs } from "./concatSplit";
import { gatherConfig } from "./gatherRows";

const replacements: KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  unsortedSegmentSumConfig,
  cpuFallbackConfig("DepthwiseConv2dNativeBackpropFilter"),
  cpuFallbackConfig("DepthwiseConv2dNativeBackpropInput"),
];

const registered = new Set<string>();

export function registerWasmTrainingKernels(): string[] {
  const stockMatMul = getKernel("BatchMatMul", "wasm");
  if (stockMatMul && !registered.has("BatchMatMul")) {
    unregisterKernel("BatchMatMul", "wasm");
    registerKernel(batchMatMulExplicitTransposeConfig(stockMatMul));
    registered.add("BatchMatMul");
  }
  const stockConcat = getKernel("Concat", "wasm");
  const stockSplitV = getKernel("SplitV", "wasm");
  if (stockConcat && stockSplitV && !registered.has("Concat")) {
    for (const config of concatSplitConfigs({ concat: stockConcat, splitV: stockSplitV })) {
      unregisterKernel(config.kernelName, "wasm");
      registerKernel(config);
      registered.add(config.kernelName);
    }
  }
  const stockGather = getKernel("GatherV2", "wasm");
  if (stockGather && !registered.has("GatherV2")) {
    unregisterKernel("GatherV2", "wasm");
    registerKernel(gatherConfig(stockGather));
    registered.add("GatherV2");
  }
  for (const config of replacements) {
    if (registered.has(config.kernelName)) continue;
    if (getKernel(config.kernelName, "wasm")) unregisterKernel(config.kernelName, "wasm");
    registerKernel(config);
    registered.add(config.kernelName);
  }
  return [...replacements.map((c) => c.kernelName), "BatchMatMul", "Concat", "SplitV", "GatherV2"];
}
