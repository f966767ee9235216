/**
 * FairdiffSumOfSquares on WebGPU (fusedKernels/fusedSumOfSquares.ts), composed inside one kernel
 * from the backend's own Square, Sum and (chunked) AddN.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { KernelScope } from "../backendScope";
import { FUSED_SUM_OF_SQUARES } from "../fusedKernels/fusedSumOfSquares";

const kernelFunc: KernelFunc = ({ inputs, backend }) => {
  const scope = KernelScope.of(backend, "webgpu");
  const sums = (Object.values(inputs) as TensorInfo[]).map((t) => {
    const flat = scope.reshape(t, [t.shape.reduce((n, d) => n * d, 1)]);
    return scope.run("Sum", { x: scope.run("Square", { x: flat }) }, { axis: [0], keepDims: true });
  });
  const total =
    sums.length === 1 ? sums[0] : scope.run("AddN", sums as unknown as Record<string, TensorInfo>);
  return scope.close(total);
};

export const sumOfSquaresWebgpuConfig: KernelConfig = {
  kernelName: FUSED_SUM_OF_SQUARES,
  backendName: "webgpu",
  kernelFunc,
};
