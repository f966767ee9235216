/**
 * One real kernel for a test file, started in a fresh notebook folder before its tests and
 * stopped after; `kernel()` gives it to the tests. Also the plain text of a cell's outputs.
 */
import { mkdtempSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KernelHarness, type Msg } from "./kernelHarness";

export function useNotebookKernel(): () => KernelHarness {
  let k: KernelHarness | undefined;
  beforeAll(async () => {
    k = await KernelHarness.start({ cwd: mkdtempSync(path.join(os.tmpdir(), "notebook-")) });
  }, 60_000);
  afterAll(async () => {
    await k?.stop();
  });
  return () => {
    if (!k) throw new Error("the kernel has not started (use it inside a test)");
    return k;
  };
}

/** A cell's iopub messages as JSON text, to look for a value in them. */
export const outputsText = (outputs: Msg[]): string => JSON.stringify(outputs);
