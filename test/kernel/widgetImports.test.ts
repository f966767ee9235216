/**
 * The widgets are importable (`fairdiff/widgets`, through package.json "exports") as well as cell
 * globals, and the import gives the very same classes.
 */
import { outputsText as text, useNotebookKernel } from "./helpers/notebookKernel";

const kernel = useNotebookKernel();

test("widgets are importable from fairdiff/widgets, the same classes as the cell globals", async () => {
  const { reply, outputs } = await kernel().execute(
    'import { TrainingDashboard as Dashboard, SampleGrid as Grid } from "fairdiff/widgets";\nDashboard === TrainingDashboard && Grid === SampleGrid',
  );
  expect([reply.content.status, reply.content.evalue]).toEqual(["ok", undefined]);
  expect(text(outputs)).toContain('"text/plain":"true"');
});
