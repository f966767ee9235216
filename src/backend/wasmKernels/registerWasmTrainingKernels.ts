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

/** Puts the configs `build` makes from the stock wasm kernels `names` in their place, once. */
function overStock(names: string[], build: (stock: KernelConfig[]) => KernelConfig[]): void {
  if (names.some((name) => registered.has(name))) return;
  const stock = names.map((name) => getKernel(name, "wasm"));
  if (stock.some((config) => !config)) return;
  for (const config of build(stock as KernelConfig[])) {
    unregisterKernel(config.kernelName, "wasm");
    registerKernel(config);
    registered.add(config.kernelName);
  }
}

export function registerWasmTrainingKernels(): string[] {
  overStock(["BatchMatMul"], ([matMul]) => [batchMatMulExplicitTransposeConfig(matMul)]);
  overStock(["Concat", "SplitV"], ([concat, splitV]) => concatSplitConfigs({ concat, splitV }));
  overStock(["GatherV2"], ([gather]) => [gatherConfig(gather)]);
  for (const config of replacements) {
    if (registered.has(config.kernelName)) continue;
    if (getKernel(config.kernelName, "wasm")) unregisterKernel(config.kernelName, "wasm");
    registerKernel(config);
    registered.add(config.kernelName);
  }
  return [...replacements.map((c) => c.kernelName), "BatchMatMul", "Concat", "SplitV", "GatherV2"];
}
