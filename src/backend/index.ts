export { useBackend } from "./useBackend";
export { backendInfo, describeBackend } from "./backendInfo";
export type { BackendInfo, BackendName, BackendRequest, BackendCandidate } from "./backendInfo";
export { registerWasmTrainingKernels } from "./wasmKernels/registerWasmTrainingKernels";
