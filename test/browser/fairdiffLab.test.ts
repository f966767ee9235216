/**
 * End to end in a real browser: FairDiff Lab (JupyterLab 4 assembled from npm packages, with the
 * widget manager and fairdiff's extension built in) served by Debian's jupyter_server as
 * `fairdiff lab serve --backend wasm --quick` runs it, with fairdiff's kernel, driven by headless
 * Chromium. The lab: the status bar names the kernels' backend and mode, README.md opens rendered
 * on double-click, the Help menu opens the project's docs, the running-kernels panel lists and
 * shuts down kernels. A notebook creates the widgets; the test drags a slider with the mouse and
 * keys and reads the value back from the kernel, watches the dashboard's plots update while a real
 * distributional-alignment fine-tune of cxr-mini runs, stops it and resumes it from the
 * dashboard, runs the shipped notebook 02 whole (Run All, quick mode, no cell error, both its
 * dashboards drawn), feeds HTML-looking labels to a widget and to an audit report, then saves, shuts the
 * kernel down from the running panel, reloads and checks that the saved report still renders, its
 * charts readable in the light and dark themes.
 * Through all of it the browser console shows no error and no request fails. Screenshots go to
 * test-artifacts/browser/.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { peerHasModules, peerPython } from "../../bench/peers/python";
import { testWhen } from "../helpers/requirements";
import { measureCharts } from "./helpers/chartLayout";
import { chromiumAvailable, launchChromium } from "./helpers/chromium";
import { LabServer, ROOT } from "./helpers/labServer";
import {
  clickMenuEntry,
  doubleClickInFileBrowser,
  markdownViewer,
  menuEntries,
  showSidePanel,
} from "./helpers/labShell";
import {
  cellPrompt,
  openLab,
  openNotebook,
  runAllCells,
  runCell,
  saveNotebook,
  startCell,
  waitForCell,
  waitForKernelIdle,
} from "./helpers/notebookPage";
import { execFileSync } from "node:child_process";

jest.setTimeout(240_000);

const available = chromiumAvailable() && peerHasModules(["jupyter_server", "jupyterlab_server"]);
const browserTest = testWhen(
  available,
  "chromium and python3-jupyter-server / jupyterlab-server (apt)",
);

const ARTIFACTS = path.join(ROOT, "test-artifacts", "browser");
const PWN = "<img src=x onerror=window.__pwned=1>";
const PROMPT = "Chest Radiography image of a patient diagnosed with Pleural Effusion";
const NOTEBOOK_02 = "02-distributional-alignment.ipynb";
const models = (name: string) => JSON.stringify(path.join(ROOT, "models", name));

/** The notebook's cells, in order; the tests run them one by one. */
const CELLS = [
  // 0: load the shipped model and classifier
  `import { useBackend, LatentDiffusionModel, SubgroupClassifier, distributionalAlignment, generateImages, runAudit, type MethodEvent } from "fairdiff";
await useBackend("wasm");
const model = await LatentDiffusionModel.load(${models("cxr-mini.fdckpt")});
const classifier = await SubgroupClassifier.load(${models("cxr-classifier.fdckpt")});
const PWN = ${JSON.stringify(PWN)};
const PROMPT = ${JSON.stringify(PROMPT)};
"loaded"`,
  // 1: a target slider and a histogram, with a group name that looks like HTML
  `const target = new TargetDistribution({
  attributes: { sex: ["Female", "Male"], race: ["White", "Black", PWN] },
  presets: { "training data": { sex: { Female: 0.4, Male: 0.6 } } },
});
const histogram = new SubgroupHistogram({ panels: [{ key: "race", groups: ["White", "Black", PWN],
  generated: [0.5, 0.3, 0.2], lower: [0.4, 0.2, 0.1], upper: [0.6, 0.4, 0.3], target: [1 / 3, 1 / 3, 1 / 3], n: 64 }] });
display(target);
display(histogram);`,
  // 2: the kernel's view of the target
  `console.log("TARGET " + JSON.stringify(target.value));`,
  // 3: a live dashboard following a real fine-tune (distributional alignment, Shen et al.), given
  // as a StartRun so that its Start button can resume the run after Stop
  `const dashboard = new TrainingDashboard({
  title: "Distributional alignment of cxr-mini",
  target: { attributes: { sex: ["Female", "Male"] } },
  training: { sex: { Female: 0.15, Male: 0.85 } },
  samples: true,
});
display(dashboard);
const controller = new AbortController();
// The Female target each event used (steps numbered across a stop and resume): evaluations and
// steps read the slider while the loop runs.
const targetsUsed: string[] = [];
async function* recorded(events: AsyncIterable<MethodEvent>, stepsBefore: number) {
  for await (const e of events) {
    if (e.type === "step") targetsUsed.push(\`step \${stepsBefore + e.step} \${e.target.sex.Female}\`);
    if (e.type === "evaluation") targetsUsed.push(\`evaluation \${stepsBefore + e.step} \${e.attributes[0].target[0]}\`);
    yield e;
  }
}
const TOTAL_STEPS = 4;
const summary = await dashboard.run(
  (getTarget, signal, resume) => recorded(distributionalAlignment(model, classifier, {
    steps: TOTAL_STEPS - resume.stepsDone, seed: 1 + resume.stepsDone, prompts: [PROMPT], target: getTarget, batchSize: 2,
    sampler: { steps: 3 }, signal,
    evaluation: { every: 2, prompts: [PROMPT], imagesPerPrompt: 4, seed: 2, attributes: ["sex"] },
  }), resume.stepsDone),
  controller,
);
console.log("SUMMARY " + JSON.stringify(summary));`,
  // 4: after the dashboard's Resume: the resumed run's summary, the whole run's curve, samples
  `const resumed = await dashboard.finished!;
const images = await generateImages(model, Array(8).fill(PROMPT), { seed: 5, steps: 4 });
const sexHead = (await classifier.predict(images)).find((h) => h.task === "sex")!;
dashboard.samples!.showPredicted(images.dataSync() as Float32Array, images.shape as [number, number, number, number], Array(8).fill(PROMPT), sexHead);
images.dispose();
console.log("RESUMED " + JSON.stringify(resumed));
console.log("STEPS " + JSON.stringify(dashboard.metrics.series()["bias sex vs target (batch)"].step));
console.log("TARGETS " + JSON.stringify(targetsUsed));`,
  // 5: an audit report whose title looks like HTML
  `const report = await runAudit(model, classifier, {
  title: PWN + " audit of cxr-mini", prompts: [PROMPT], imagesPerPrompt: 8, seed: 3,
  attributes: ["sex", "race"], generation: { steps: 4 },
});
report`,
];

let server: LabServer | undefined;
let browser: Browser | undefined;
let page: Page;
/** Every console error and page error, and every request that failed or got an HTTP error. */
const consoleErrors: string[] = [];
const failedRequests: string[] = [];

beforeAll(async () => {
  if (!available) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await LabServer.start({ backend: "wasm", quick: true });
  server.writeNotebook("fairdiff-e2e.ipynb", CELLS);
  server.writeFile("README.md", readFileSync(path.join(ROOT, "notebooks", "README.md"), "utf8"));
  server.writeFile(NOTEBOOK_02, readFileSync(path.join(ROOT, "notebooks", NOTEBOOK_02), "utf8"));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  // Each error with the test it happened in, page errors with where they were thrown.
  const during = () => ` (during: ${expect.getState().currentTestName})`;
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text().split("\n")[0] + during());
  });
  page.on("pageerror", (e) => {
    const where = (e.stack ?? "").split("\n").slice(1, 3).join(" ").trim();
    consoleErrors.push(`pageerror: ${e.message} ${where}${during()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on("requestfailed", (r) => {
    const error = r.failure()?.errorText ?? "";
    // Cancelled by the page itself, not failed: the Markdown renderer swaps a relative <img src>
    // for its resolved URL while the browser has begun loading the first (upstream behaviour).
    if (error !== "net::ERR_ABORTED") failedRequests.push(`${error} ${r.method()} ${r.url()}`);
  });
}, 120_000);

afterAll(async () => {
  await page
    ?.screenshot({ path: path.join(ARTIFACTS, "last.png"), fullPage: true })
    .catch(() => {});
  await browser?.close().catch(() => {});
  if (server) writeFileSync(path.join(ARTIFACTS, "server.log"), server.output);
  await server?.stop();
}, 60_000);

/** Makes the e2e notebook the current tab again (after a Markdown viewer took the focus). */
async function backToNotebook(): Promise<void> {
  await openNotebook(page, "fairdiff-e2e.ipynb", { startKernel: true });
}

/** Statuses of a fetch by the test itself (not the page), e.g. of what the docs route refuses. */
async function statusOf(pathname: string): Promise<number> {
  const response = await fetch(server!.url(pathname), { headers: { connection: "close" } });
  await response.arrayBuffer();
  return response.status;
}

function pwned(): Promise<unknown> {
  return page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
}

async function kernelTarget(): Promise<Record<string, Record<string, number>>> {
  const output = await runCell(page, 2);
  const line = output.split("\n").find((l) => l.includes("TARGET "));
  if (!line) throw new Error(`no TARGET line in ${output}`);
  return JSON.parse(line.slice(line.indexOf("TARGET ") + 7));
}

describe("FairDiff Lab in headless Chromium", () => {
  browserTest("opens a notebook on the fairdiff kernel and loads the shipped model", async () => {
    await openLab(page, server!);
    await openNotebook(page, "fairdiff-e2e.ipynb", { startKernel: true });
    await waitForKernelIdle(page);
    expect(await runCell(page, 0, 120_000)).toContain("loaded");
  });

  browserTest(
    "the status bar names the backend and mode the lab's kernels start with",
    async () => {
      // The server was started as `lab serve --backend wasm --quick` starts it.
      const item = page.locator(".fd-mode-status");
      await item.waitFor({ timeout: 10_000 });
      expect(await item.textContent()).toBe("fairdiff: wasm · quick");
      expect(await item.getAttribute("title")).toMatch(
        /FAIRDIFF_BACKEND=wasm and FAIRDIFF_QUICK=1/,
      );
    },
  );

  browserTest("README.md opens rendered on double-click, in the Markdown viewer", async () => {
    await doubleClickInFileBrowser(page, "README.md");
    const viewer = markdownViewer(page, "notebooks");
    await viewer.waitFor({ timeout: 30_000 });
    // Rendered, not shown as source: the table of notebooks is a table, code is code.
    expect(await viewer.locator("table tbody tr").count()).toBe(6);
    expect(await viewer.locator("code", { hasText: "01-audit.ipynb" }).count()).toBe(1);
    expect(await viewer.textContent()).not.toContain("| --- |");
    await page.screenshot({ path: path.join(ARTIFACTS, "notebooks-readme.png") });
    await backToNotebook();
  });

  browserTest("the Help menu opens fairdiff's docs in the lab, from local files", async () => {
    const entries = await menuEntries(page, "Help");
    expect(entries).toEqual(
      expect.arrayContaining([
        "fairdiff README",
        "fairdiff methods (docs/methods.md)",
        "Notebooks guide (notebooks/README.md)",
        "About FairDiff Lab",
        "Licenses",
      ]),
    );
    // No entry points at a website (a class offline could not follow it).
    expect(entries.filter((e) => /forum|reference|faq/i.test(e))).toEqual([]);
    await clickMenuEntry(page, "fairdiff README");
    const readme = markdownViewer(page, "fairdiff");
    await readme.waitFor({ timeout: 30_000 });
    // Its pictures come from the project's docs/images through the docs route.
    await page.waitForFunction(
      `(() => { const img = document.querySelector('.jp-MarkdownViewer:not(.lm-mod-hidden) img[alt^="FairDiff Lab"]'); return !!img && img.complete && img.naturalWidth > 0; })()`,
      null,
      { timeout: 30_000 },
    );
    // A relative link to another doc opens that doc in the lab too.
    await readme.locator('a[href$="/fairdiff/docs/notebooks/README.md"]').first().click();
    await markdownViewer(page, "notebooks").waitFor({ timeout: 30_000 });
    await menuEntries(page, "Help");
    await clickMenuEntry(page, "fairdiff methods (docs/methods.md)");
    await markdownViewer(page, "Methods and metrics").waitFor({ timeout: 30_000 });
    // The docs route serves documentation only: Markdown and images inside the project.
    expect(await statusOf("/fairdiff/docs/docs/methods.md")).toBe(200);
    for (const refused of [
      "package.json",
      "src/index.ts",
      "node_modules/jest/README.md",
      "..%2F..%2Fetc%2Fpasswd",
      ".git/HEAD",
    ]) {
      expect([refused, await statusOf(`/fairdiff/docs/${refused}`)]).toEqual([refused, 404]);
    }
    // …and only to whoever holds the token (without it: sent to the login page).
    const anonymous = await fetch(`${server!.baseUrl}/fairdiff/docs/README.md`, {
      redirect: "manual",
      headers: { connection: "close" },
    });
    await anonymous.arrayBuffer();
    expect([302, 403]).toContain(anonymous.status);
    await backToNotebook();
  });

  browserTest(
    "dragging a slider (mouse, then arrow keys) changes the kernel's target",
    async () => {
      await runCell(page, 1);
      const female = page.getByLabel("sex: Female target share", { exact: true });
      await female.waitFor({ timeout: 30_000 });
      const box = (await female.boundingBox())!;
      // Real mouse: press on the thumb (at 0.5) and drag to 80 % of the track.
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.65, box.y + box.height / 2, { steps: 5 });
      await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      const dragged = Number(await female.inputValue());
      expect(dragged).toBeGreaterThan(0.65);
      // Keyboard: the focused slider moves by its step (0.01) per key press, also in a notebook
      // in command mode (whose shortcuts would otherwise take the arrow keys).
      await female.focus();
      await page.keyboard.press("ArrowLeft");
      await page.keyboard.press("ArrowLeft");
      const shown = Number(await female.inputValue());
      expect(shown).toBeCloseTo(dragged - 0.02, 9);
      expect(shown).toBeGreaterThan(0.6);
      expect(shown).toBeLessThan(0.9);
      const male = Number(
        await page.getByLabel("sex: Male target share", { exact: true }).inputValue(),
      );
      expect(shown + male).toBeCloseTo(1, 6);
      // The frontend sends its updates in order; poll the kernel until the last one has landed.
      let value = await kernelTarget();
      for (let i = 0; i < 10 && Math.abs(value.sex.Female - shown) > 1e-9; i++) {
        await page.waitForTimeout(500);
        value = await kernelTarget();
      }
      expect(value.sex.Female).toBeCloseTo(shown, 9);
      expect(value.sex.Male).toBeCloseTo(1 - shown, 9);
      expect(value.race.White).toBeCloseTo(1 / 3, 9); // the other attribute did not move
    },
  );

  browserTest("HTML-looking group names are shown as text and never run", async () => {
    const labels = await page.locator(".fd-target-group").allTextContents();
    expect(labels).toContain(PWN);
    expect(await page.locator(".fd-target img, .fd-histogram img").count()).toBe(0);
    const ticks = await page.locator(".fd-histogram .xtick text").allTextContents();
    expect(ticks).toContain(PWN);
    expect(await pwned()).toBeUndefined();
  });

  browserTest(
    "the dashboard's plots update while a real fine-tune runs; Stop, then Resume, finishes it",
    async () => {
      await startCell(page, 3);
      const dashboard = page.locator(".fd-dashboard");
      const metrics = dashboard.locator(".fd-metrics");
      const histogram = dashboard.locator(".fd-histogram");
      await metrics.waitFor({ timeout: 60_000 });
      // The kernel's own backend and mode: useBackend("wasm") in cell 0, quick from the server.
      expect(await dashboard.locator(".fd-dashboard-mode").textContent()).toBe("wasm · quick");
      const seen = new Set<string>();
      const histogramDraws = new Set<string>();
      const slider = dashboard.getByLabel("sex: Female target share", { exact: true });
      let steered = false;
      let steeredTo = "";
      let stopPressed = false;
      // Sample the plots while the cell is still running ("[*]").
      while ((await cellPrompt(page, 3)).includes("*")) {
        const points = Number(await metrics.getAttribute("data-points"));
        if (!steered && points >= 1) {
          // The first evaluation is in: steer the running loop, ten key presses of 0.01.
          await slider.focus();
          for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
          steeredTo = await slider.inputValue();
          steered = true;
        } else if (steered && !stopPressed && points >= 2) {
          // The first step is in: stop the run with the mouse, as a user would.
          await dashboard.locator("button.fd-stop").click();
          stopPressed = true;
        }
        const draws = await histogram.getAttribute("data-draws");
        if ((await cellPrompt(page, 3)).includes("*")) seen.add(String(points));
        if (draws) histogramDraws.add(draws);
        await page.waitForTimeout(200);
      }
      const output = await waitForCell(page, 3, 200_000);
      const stopped = JSON.parse(output.slice(output.indexOf("SUMMARY ") + 8).split("\n")[0]);
      expect(stopPressed).toBe(true);
      expect(stopped.aborted).toBe(true);
      expect(stopped.steps).toBeGreaterThanOrEqual(1);
      expect(stopped.steps).toBeLessThan(4);
      // Stopped: Start is enabled, offers to resume, and each target value shows once.
      const start = dashboard.locator("button.fd-start");
      expect(await start.isEnabled()).toBe(true);
      expect(await start.textContent()).toBe("Resume");
      expect(await dashboard.locator(".fd-status").textContent()).toMatch(
        new RegExp(`^stopped after step ${stopped.steps} of 4 .*Resume continues$`),
      );
      const femaleRow = dashboard.locator(".fd-target-row", { hasText: "Female" });
      expect(await femaleRow.locator("input[type=number]").inputValue()).toBe("0.600");
      expect(await femaleRow.textContent()).not.toMatch(/0\.6/);

      // Resume: the run takes the steps left; the plots keep growing.
      await start.click();
      await page.waitForFunction(
        `document.querySelector(".fd-dashboard")?.dataset.running === "true"`,
        null,
        { timeout: 30_000 },
      );
      expect(await start.isDisabled()).toBe(true);
      const pointsAtResume = Number(await metrics.getAttribute("data-points"));
      let midShot = false;
      while ((await dashboard.getAttribute("data-running")) === "true") {
        const points = Number(await metrics.getAttribute("data-points"));
        seen.add(String(points));
        const status = (await dashboard.locator(".fd-status").textContent()) ?? "";
        if (!midShot && points > pointsAtResume && status.startsWith("align step")) {
          // The README's picture (docs/images/dashboard.png): the resumed run under way, its
          // evaluation at the resume and a step since in.
          midShot = true;
          await dashboard
            .screenshot({ path: path.join(ARTIFACTS, "dashboard-mid-training.png") })
            .catch(() => (midShot = false));
        }
        const draws = await histogram.getAttribute("data-draws");
        if (draws) histogramDraws.add(draws);
        await page.waitForTimeout(200);
      }
      expect(await dashboard.locator(".fd-status").textContent()).toMatch(/^done after 4 steps/);
      expect(await start.isDisabled()).toBe(true);

      const after = await runCell(page, 4, 120_000);
      const line = (tag: string) =>
        JSON.parse(after.slice(after.indexOf(`${tag} `) + tag.length + 1).split("\n")[0]);
      expect(line("RESUMED")).toMatchObject({ steps: 4 - stopped.steps, aborted: false });
      // One curve over the whole run, stop and resume included: steps 1 to 4, each once.
      expect(line("STEPS")).toEqual([1, 2, 3, 4]);
      // The loop read the slider mid-run: 0.5 at the first evaluation, 0.6 by the last step.
      const targets: string[] = line("TARGETS");
      expect(targets[0]).toBe("evaluation 0 0.5");
      expect({ steeredTo, targets }).toMatchObject({ steeredTo: "0.6" });
      expect(targets.filter((t) => t.startsWith("step")).pop()).toBe("step 4 0.6");
      // Several distinct point counts seen while it ran: the plot grew as the run went on.
      expect(seen.size).toBeGreaterThanOrEqual(3);
      expect(Number(await metrics.getAttribute("data-extends"))).toBeGreaterThanOrEqual(3);
      expect(histogramDraws.size).toBeGreaterThanOrEqual(2);
      // The live histogram: whiskers for the intervals, and a caption naming n, the evaluation
      // and the target its bias is measured against.
      expect(await histogram.getAttribute("data-intervals")).toBe("true");
      expect(await histogram.locator(".fd-caption").textContent()).toMatch(
        /^n = 4 · evaluation at step 4 · bias vs 60\/40 target \(Female\/Male\) \d\.\d{3}$/,
      );
      expect(await histogram.locator(".legendtext").allTextContents()).toContain(
        "generated (95 % interval)",
      );
      expect(await dashboard.locator(".fd-samples canvas").count()).toBe(8);
      await dashboard.scrollIntoViewIfNeeded();
      await dashboard.screenshot({ path: path.join(ARTIFACTS, "dashboard.png") });
    },
  );

  browserTest("the running panel lists the notebook's kernel", async () => {
    const panel = await showSidePanel(page, "jp-running-sessions");
    const kernel = panel.locator(".jp-RunningSessions-item.jp-mod-kernel", {
      hasText: "fairdiff-e2e.ipynb",
    });
    await kernel.waitFor({ timeout: 30_000 });
    expect(
      await panel.locator(".jp-RunningSessions-item.jp-mod-kernelspec").first().textContent(),
    ).toContain("fairdiff (TypeScript)");
    await page.screenshot({ path: path.join(ARTIFACTS, "running-panel.png") });
  });

  browserTest(
    "notebook 02 runs whole in the lab as `npm start -- --quick` serves it",
    async () => {
      await openNotebook(page, NOTEBOOK_02, { startKernel: true });
      await waitForKernelIdle(page);
      await runAllCells(page, 600_000);
      await saveNotebook(page);
      const saved = JSON.parse(readFileSync(path.join(server!.notebooks, NOTEBOOK_02), "utf8"));
      type Output = { output_type: string; ename?: string; evalue?: string };
      type Cell = { cell_type: string; outputs?: Output[]; metadata: { tags?: string[] } };
      const code = (saved.cells as Cell[]).filter((c) => c.cell_type === "code");
      const errors = code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "error");
      expect(errors.map((o) => `${o.ename}: ${o.evalue}`)).toEqual([]);
      // Both headline cells (sex; sex and race) printed their result.
      const results = code.filter((c) => c.metadata.tags?.some((t) => t.startsWith("result")));
      expect(results.map((c) => (c.outputs ?? []).length > 0)).toEqual([true, true]);
      // Its two training dashboards (sex; then sex and race with two sliders) drew in the page.
      await expect(
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .fd-dashboard").count(),
      ).resolves.toBe(2);
      await backToNotebook();
    },
    660_000,
  );

  browserTest("a saved audit report renders after reload with no kernel", async () => {
    await runCell(page, 5, 180_000);
    const live = page.locator(".fd-report").first();
    await live.waitFor({ timeout: 30_000 });
    expect(await live.locator("h2").textContent()).toBe(`${PWN} audit of cxr-mini`);
    await saveNotebook(page);
    const saved = JSON.parse(
      readFileSync(path.join(server!.notebooks, "fairdiff-e2e.ipynb"), "utf8"),
    );
    const reportOutput = saved.cells[5].outputs.find(
      (o: { data?: Record<string, unknown> }) =>
        o.data?.["application/vnd.fairdiff.audit-report+json"],
    );
    expect(reportOutput).toBeDefined();

    // Shut every kernel down from the running panel, then reload and open the notebook
    // without starting one.
    const panel = await showSidePanel(page, "jp-running-sessions");
    const kernels = panel.locator(".jp-AccordionPanel-title", { hasText: "Kernels" });
    await kernels.locator(".jp-RunningSessions-shutdownAll").click();
    const confirm = page.locator(".jp-Dialog .jp-mod-accept");
    if (await confirm.isVisible({ timeout: 5_000 }).catch(() => false)) await confirm.click();
    for (let i = 0; i < 60; i++) {
      if ((await server!.api<unknown[]>("/api/kernels")).length === 0) break;
      await page.waitForTimeout(500);
    }
    expect(await server!.api<unknown[]>("/api/kernels")).toEqual([]);
    await openLab(page, server!);
    await openNotebook(page, "fairdiff-e2e.ipynb", { startKernel: false });
    const report = page.locator(".fd-report").first();
    await report.waitFor({ timeout: 30_000 });
    expect(await report.locator("h2").textContent()).toBe(`${PWN} audit of cxr-mini`);
    expect(await report.locator(".fd-report-prompt q").first().textContent()).toBe(PROMPT);
    expect(await report.locator("table.fd-report-table").count()).toBeGreaterThanOrEqual(2);
    expect(await report.locator("svg.fd-chart rect.fd-bar").count()).toBeGreaterThan(0);
    expect(await report.locator("img").count()).toBe(0);
    expect(await pwned()).toBeUndefined();
    expect(await server!.api<unknown[]>("/api/kernels")).toEqual([]);
    // The HTML report's charts, readable in the lab's light and dark themes: a legend and an
    // axis title each, no label overlapping another or cut off.
    for (const theme of ["JupyterLab Light", "JupyterLab Dark"]) {
      await page.evaluate(
        `window.fairdiffLab.commands.execute("apputils:change-theme", { theme: ${JSON.stringify(theme)} })`,
      );
      await page.waitForFunction(
        `document.body.dataset.jpThemeName === ${JSON.stringify(theme)}`,
        null,
        { timeout: 30_000 },
      );
      const layout = await measureCharts(page, ".fd-report svg.fd-chart");
      expect(layout.problems).toEqual([]);
      expect(layout.charts).toHaveLength(2); // the sex and race shares
      for (const chart of layout.charts) {
        expect(chart.axisTitles).toBe(1);
        expect(chart.legendTexts).toBeGreaterThanOrEqual(2);
      }
      await report.scrollIntoViewIfNeeded();
      const dark = theme.endsWith("Dark") ? "-dark" : "";
      await report.screenshot({ path: path.join(ARTIFACTS, `audit-report${dark}.png`) });
      // The README's pictures (docs/images/lab-report*.png): one prompt's section, no title.
      await report
        .locator("section.fd-report-prompt")
        .first()
        .screenshot({ path: path.join(ARTIFACTS, `report-prompt${dark}.png`) });
    }
    await page.evaluate(
      `window.fairdiffLab.commands.execute("apputils:change-theme", { theme: "JupyterLab Light" })`,
    );

    // What was exercised, for the record.
    const version = (name: string) =>
      JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8"))
        .version;
    const python = (mod: string) =>
      execFileSync(peerPython(), ["-c", `import ${mod}; print(${mod}.__version__)`], {
        encoding: "utf8",
      }).trim();
    writeFileSync(
      path.join(ARTIFACTS, "versions.json"),
      JSON.stringify(
        {
          "@jupyterlab/application": version("@jupyterlab/application"),
          "@jupyterlab/notebook": version("@jupyterlab/notebook"),
          "@jupyter-widgets/jupyterlab-manager": version("@jupyter-widgets/jupyterlab-manager"),
          "@jupyter-widgets/base": version("@jupyter-widgets/base"),
          "plotly.js-dist-min": version("plotly.js-dist-min"),
          "playwright-core": version("playwright-core"),
          chromium: browser!.version(),
          jupyter_server: python("jupyter_server"),
          jupyterlab_server: python("jupyterlab_server"),
          consoleErrors: consoleErrors.slice(0, 20),
          failedRequests: failedRequests.slice(0, 20),
        },
        null,
        2,
      ) + "\n",
    );
  });

  browserTest(
    "the console showed no error and no request failed, from the first page load on",
    () => {
      // Over two page loads, a notebook run with a fine-tune stopped and resumed, the docs and
      // the panels: FairDiff Lab's server answers everything the front end asks for.
      expect(failedRequests).toEqual([]);
      // One known exception, upstream: @jupyter-widgets/jupyterlab-manager 5.0.16 throws when a
      // notebook opens with no kernel (ipywidgets issue #3970, fix not released), which only the
      // reload without a kernel does.
      const upstream = (e: string) =>
        /reading 'kernel'.*getWidgetManagerOwner/.test(e) && e.includes("reload with no kernel");
      expect(consoleErrors.filter((e) => !upstream(e))).toEqual([]);
    },
  );
});
