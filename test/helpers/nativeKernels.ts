/** Whether fairdiff's native kernels were built here, and `test` for tests that need them. */
import { loadNativeKernels } from "../../src/backend/nativeKernels/nativeAddon";
import { testWhen } from "./requirements";

export const nativeKernelsBuilt = (() => {
  try {
    return loadNativeKernels().addon !== undefined;
  } catch {
    return false;
  }
})();

export const nativeTest = testWhen(
  nativeKernelsBuilt,
  "fairdiff's native kernels (a C++ compiler at `npm install`)",
);
