export { useBackend } from "./useBackend";
export { backendInfo, describeBackend } from "./backendInfo";
export type { BackendInfo, BackendName, BackendRequest, BackendCandidate } from "./backendInfo";
export { registerWasmTrainingKernels } from "./wasmKernels/registerWasmTrainingKernels";
export {
  BACKEND_CHOICES,
  BACKEND_NAMES,
  backendRequestFromEnvironment,
  parseBackendRequest,
} from "./backendRequest";
export { webgpuBeatsWasm } from "./webgpuRule";
export { describeAdapter, inspectWebgpuAdapter, inspectWebgpuAdapterSync } from "./webgpuAdapter";
export type { WebgpuAdapter, WebgpuProbe } from "./webgpuAdapter";
export { ReplayedStep, recordStep, replayStep, setKernelReplay } from "./kernelReplay";
export type { ReplayPlan, Recording } from "./kernelReplay";
