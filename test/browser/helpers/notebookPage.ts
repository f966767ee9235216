/**
 * Drives a notebook in FairDiff Lab through the page: open it, wait for the kernel, run one cell
 * and wait for it to finish, read a cell's output. Every wait is on DOM or kernel state, with a
 * generous timeout and a message that says what did not happen.
 */
import type { Page } from "playwright-core";
import type { LabServer } from "./labServer";

/** The notebook panel's view of the page, evaluated in the browser. */
const PANEL = `(() => {
  const lab = window.fairdiffLab;
  const panel = lab && lab.shell.currentWidget;
  return panel && panel.content && panel.sessionContext ? panel : null;
})()`;

export async function openLab(page: Page, server: LabServer): Promise<void> {
  // ?reset: start from an empty workspace, so nothing reopens (or starts a kernel) by itself.
  await page.goto(server.url("/lab?reset"));
  await page.waitForSelector("body[data-fairdiff-lab=ready]", {
    state: "attached",
    timeout: 90_000,
  });
}

export async function openNotebook(
  page: Page,
  path: string,
  options: { startKernel: boolean },
): Promise<void> {
  await page.evaluate(
    async ({ path, startKernel }) => {
      const lab = (
        globalThis as unknown as {
          fairdiffLab: { commands: { execute(id: string, args: unknown): Promise<unknown> } };
        }
      ).fairdiffLab;
      await lab.commands.execute("docmanager:open", {
        path,
        factory: "Notebook",
        kernelPreference: {
          shouldStart: startKernel,
          canStart: startKernel,
          autoStartDefault: false,
        },
      });
    },
    { path, startKernel: options.startKernel },
  );
  await page.waitForFunction(`${PANEL} && ${PANEL}.context.isReady`, null, { timeout: 60_000 });
  // The current panel's cells: another notebook's may be open in a hidden tab.
  await page.waitForSelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", { timeout: 30_000 });
}

export async function waitForKernelIdle(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(
    `(() => { const p = ${PANEL}; const k = p && p.sessionContext.session && p.sessionContext.session.kernel; return !!k && k.status === "idle"; })()`,
    null,
    { timeout },
  );
}

/** The prompt of cell `index`: "[*]:" while it runs, "[n]:" when done. */
export function cellPrompt(page: Page, index: number): Promise<string> {
  return page.evaluate(
    `(() => { const c = ${PANEL}.content.widgets[${index}]; const p = c.node.querySelector(".jp-InputPrompt"); return p ? p.textContent.trim() : ""; })()`,
  ) as Promise<string>;
}

/**
 * Starts cell `index` and waits until it has started: its prompt shows "*", or — a quick cell
 * whose "*" came and went between two polls of a busy page — its execution count moved.
 */
export async function startCell(page: Page, index: number): Promise<void> {
  const countBefore = await page.evaluate(
    `(() => ${PANEL}.content.widgets[${index}].model.executionCount ?? null)()`,
  );
  await page.evaluate(`(() => {
    const lab = window.fairdiffLab;
    const panel = ${PANEL};
    panel.content.activeCellIndex = ${index};
    void lab.commands.execute("notebook:run-cell");
  })()`);
  await page.waitForFunction(
    `(() => { const c = ${PANEL}.content.widgets[${index}]; const p = c.node.querySelector(".jp-InputPrompt"); return (p && p.textContent.includes("*")) || (c.model.executionCount ?? null) !== ${JSON.stringify(countBefore)}; })()`,
    null,
    { timeout: 30_000 },
  );
}

export async function waitForCell(page: Page, index: number, timeout = 120_000): Promise<string> {
  await page.waitForFunction(
    `(() => { const c = ${PANEL}.content.widgets[${index}]; const p = c.node.querySelector(".jp-InputPrompt"); return p && /\\[\\d+\\]/.test(p.textContent); })()`,
    null,
    { timeout },
  );
  const output = await cellOutput(page, index);
  const error = await page.evaluate(
    `(() => { const c = ${PANEL}.content.widgets[${index}]; return [...c.node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.textContent).join("\\n"); })()`,
  );
  if (error && /Error|error TS/.test(String(error))) {
    throw new Error(`cell ${index} failed:\n${String(error)}\n${output}`);
  }
  return output;
}

export async function runCell(page: Page, index: number, timeout?: number): Promise<string> {
  await startCell(page, index);
  return waitForCell(page, index, timeout);
}

/** Runs every cell of the open notebook (Run → Run All Cells) and waits until each has run. */
export async function runAllCells(page: Page, timeout: number): Promise<void> {
  await page.evaluate(`void window.fairdiffLab.commands.execute("notebook:run-all-cells")`);
  await page.waitForFunction(
    `(() => { const p = ${PANEL}; return !!p && p.content.widgets.filter((c) => c.model.type === "code").every((c) => { const q = c.node.querySelector(".jp-InputPrompt"); return q && /\\[\\d+\\]/.test(q.textContent); }); })()`,
    null,
    { timeout },
  );
  await waitForKernelIdle(page);
}

export function cellOutput(page: Page, index: number): Promise<string> {
  return page.evaluate(
    `(() => { const c = ${PANEL}.content.widgets[${index}]; const o = c.node.querySelector(".jp-OutputArea"); return o ? o.textContent : ""; })()`,
  ) as Promise<string>;
}

export async function saveNotebook(page: Page): Promise<void> {
  await page.evaluate(`${PANEL}.context.save()`);
  await page.waitForFunction(`!${PANEL}.context.model.dirty`, null, { timeout: 30_000 });
}
