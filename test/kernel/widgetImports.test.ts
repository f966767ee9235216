/**
 * The widgets are importable (`fairdiff/widgets`, through package.json "exports") as well as cell
 * globals, and the import gives the very same classes.
 */
import { mkdtempSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KernelHarness } from "./helpers/kernelHarness";

let k: KernelHarness;
beforeAll(async () => {
  k = await KernelHarness.start({ cwd: mkdtempSync(path.join(os.tmpdir(), "notebook-")) });
}, 60_000);
afterAll(async () => {
  await k?.stop();
});

const text = (outputs: { content: Record<string, unknown> }[]) => JSON.stringify(outputs);

test("widgets are importable from fairdiff/widgets, the same classes as the cell globals", async () => {
  const { reply, outputs } = await k.execute(
    'import { TrainingDashboard as Dashboard, SampleGrid as Grid } from "fairdiff/widgets";\nDashboard === TrainingDashboard && Grid === SampleGrid',
  );
  expect([reply.content.status, reply.content.evalue]).toEqual(["ok", undefined]);
  expect(text(outputs)).toContain('"text/plain":"true"');
});
