/**
 * The kernel's backend: FAIRDIFF_BACKEND (set by `npm start -- --backend …`, `lab serve
 * --backend …` or `kernel install --backend …`) decides what a notebook's `useBackend()` picks,
 * and a cell can switch it.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelHarness } from "./helpers/kernelHarness";

jest.setTimeout(120_000);

let k: KernelHarness;

beforeAll(async () => {
  k = await KernelHarness.start({
    cwd: mkdtempSync(path.join(os.tmpdir(), "notebook-")),
    env: { FAIRDIFF_BACKEND: "cpu" },
  });
}, 90_000);

afterAll(async () => {
  await k?.stop();
});

async function result(code: string): Promise<string> {
  const { reply, outputs } = await k.execute(code, {}, 100_000);
  expect(reply.content.status).toBe("ok");
  const shown = outputs.find((m) => m.header.msg_type === "execute_result");
  return shown?.content.data["text/plain"] as string;
}

test("FAIRDIFF_BACKEND picks the notebook's backend; a cell switches it", async () => {
  expect(
    await result('import { useBackend, backendInfo } from "fairdiff";\n(await useBackend()).name'),
  ).toBe("'cpu'");
  expect(await result('(await useBackend("wasm")).name')).toBe("'wasm'");
  expect(await result("backendInfo().name")).toBe("'wasm'");
});
