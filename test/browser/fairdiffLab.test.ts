/**
 * End to end in a real browser: FairDiff Lab (JupyterLab 4 assembled from npm packages, with the
 * widget manager and fairdiff's extension built in) served by Debian's jupyter_server, running
 * fairdiff's kernel, driven by headless Chromium. A notebook creates the widgets; the test drags
 * a slider with the mouse and keys and reads the value back from the kernel, watches the
 * dashboard's plots update while a real distributional-alignment fine-tune of cxr-mini runs, feeds
 * HTML-looking labels to a widget and to an audit report, then saves, shuts the kernel down,
 * reloads and checks that the saved report still renders. Screenshots go to
 * test-artifacts/browser/.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { peerHasModules, peerPython } from "../../bench/peers/python";
import { testWhen } from "../helpers/requirements";
import { chromiumAvailable, launchChromium } from "./helpers/chromium";
import { LabServer, ROOT } from "./helpers/labServer";
import {
  cellPrompt,
  openLab,
  openNotebook,
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
  // 3: a live dashboard following a real fine-tune (distributional alignment, Shen et al.)
  `const dashboard = new TrainingDashboard({
  title: "Distributional alignment of cxr-mini",
  target: { attributes: { sex: ["Female", "Male"] } },
  training: { sex: { Female: 0.15, Male: 0.85 } },
  samples: true,
});
display(dashboard);
const controller = new AbortController();
// The Female target each event used: evaluations and steps read the slider while the loop runs.
const targetsUsed: string[] = [];
async function* recorded(events: AsyncIterable<MethodEvent>) {
  for await (const e of events) {
    if (e.type === "step") targetsUsed.push(\`step \${e.step} \${e.target.sex.Female}\`);
    if (e.type === "evaluation") targetsUsed.push(\`evaluation \${e.step} \${e.attributes[0].target[0]}\`);
    yield e;
  }
}
const summary = await dashboard.run(
  recorded(distributionalAlignment(model, classifier, {
    steps: 4, seed: 1, prompts: [PROMPT], target: dashboard.target.getter(), batchSize: 2,
    sampler: { steps: 3 }, signal: controller.signal,
    evaluation: { every: 2, prompts: [PROMPT], imagesPerPrompt: 4, seed: 2, attributes: ["sex"] },
  })),
  controller,
);
const images = await generateImages(model, Array(8).fill(PROMPT), { seed: 5, steps: 4 });
const sexHead = (await classifier.predict(images)).find((h) => h.task === "sex")!;
dashboard.samples!.showPredicted(images.dataSync() as Float32Array, images.shape as [number, number, number, number], Array(8).fill(PROMPT), sexHead);
images.dispose();
console.log("SUMMARY " + JSON.stringify(summary));
console.log("TARGETS " + JSON.stringify(targetsUsed));`,
  // 4: an audit report whose title looks like HTML
  `const report = await runAudit(model, classifier, {
  title: PWN + " audit of cxr-mini", prompts: [PROMPT], imagesPerPrompt: 8, seed: 3,
  attributes: ["sex", "race"], generation: { steps: 4 },
});
report`,
];

let server: LabServer | undefined;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!available) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await LabServer.start();
  server.writeNotebook("fairdiff-e2e.ipynb", CELLS);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text().split("\n")[0]);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await page
    ?.screenshot({ path: path.join(ARTIFACTS, "last.png"), fullPage: true })
    .catch(() => {});
  await browser?.close().catch(() => {});
  if (server) writeFileSync(path.join(ARTIFACTS, "server.log"), server.output);
  await server?.stop();
}, 60_000);

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

  browserTest("the dashboard's plots update while a real fine-tune runs", async () => {
    await startCell(page, 3);
    const metrics = page.locator(".fd-dashboard .fd-metrics");
    const histogram = page.locator(".fd-dashboard .fd-histogram");
    await metrics.waitFor({ timeout: 60_000 });
    const seen = new Set<string>();
    const histogramDraws = new Set<string>();
    const slider = page.locator(".fd-dashboard").getByLabel("sex: Female target share", {
      exact: true,
    });
    let steered = false;
    let steeredTo = "";
    let midShot = false;
    // Sample the plots while the cell is still running ("[*]").
    while ((await cellPrompt(page, 3)).includes("*")) {
      const points = await metrics.getAttribute("data-points");
      if (!steered && Number(points) >= 1) {
        // The first evaluation is in: steer the running loop, ten key presses of 0.01.
        await slider.focus();
        for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
        steeredTo = await slider.inputValue();
        steered = true;
      }
      if (!midShot && Number(points) >= 3 && (await cellPrompt(page, 3)).includes("*")) {
        // The README's picture: the dashboard while the fine-tune is still running.
        midShot = true;
        await page
          .locator(".fd-dashboard")
          .screenshot({ path: path.join(ARTIFACTS, "dashboard-mid-training.png") })
          .catch(() => (midShot = false));
      }
      const draws = await histogram.getAttribute("data-draws");
      if (points && (await cellPrompt(page, 3)).includes("*")) seen.add(points);
      if (draws) histogramDraws.add(draws);
      await page.waitForTimeout(300);
    }
    const output = await waitForCell(page, 3, 200_000);
    const summary = JSON.parse(output.slice(output.indexOf("SUMMARY ") + 8).split("\n")[0]);
    expect(summary).toMatchObject({ steps: 4, evaluations: 3, aborted: false });
    // The loop read the slider mid-run: 0.5 at the first evaluation, 0.6 by the last step.
    const targets: string[] = JSON.parse(
      output.slice(output.indexOf("TARGETS ") + 8).split("\n")[0],
    );
    expect(targets[0]).toBe("evaluation 0 0.5");
    expect({ steeredTo, targets }).toMatchObject({ steeredTo: "0.6" });
    expect(targets.filter((t) => t.startsWith("step")).pop()).toBe("step 4 0.6");
    // Several distinct point counts seen during the cell: the plot grew as the run went on.
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(Number(await metrics.getAttribute("data-extends"))).toBeGreaterThanOrEqual(3);
    expect(histogramDraws.size).toBeGreaterThanOrEqual(2);
    // Every step's bias estimate and every evaluation's audited bias reached the plot.
    expect(Number(await metrics.getAttribute("data-points"))).toBe(4 + 3);
    expect(await page.locator(".fd-dashboard .fd-samples canvas").count()).toBe(8);
    const dashboard = page.locator(".fd-dashboard");
    await dashboard.scrollIntoViewIfNeeded();
    await dashboard.screenshot({ path: path.join(ARTIFACTS, "dashboard.png") });
  });

  browserTest("a saved audit report renders after reload with no kernel", async () => {
    await runCell(page, 4, 180_000);
    const live = page.locator(".fd-report").first();
    await live.waitFor({ timeout: 30_000 });
    expect(await live.locator("h2").textContent()).toBe(`${PWN} audit of cxr-mini`);
    await saveNotebook(page);
    const saved = JSON.parse(
      readFileSync(path.join(server!.notebooks, "fairdiff-e2e.ipynb"), "utf8"),
    );
    const reportOutput = saved.cells[4].outputs.find(
      (o: { data?: Record<string, unknown> }) =>
        o.data?.["application/vnd.fairdiff.audit-report+json"],
    );
    expect(reportOutput).toBeDefined();

    // Shut every kernel down, then reload and open the notebook without starting one.
    for (const k of await server!.api<{ id: string }[]>("/api/kernels")) {
      await server!.api(`/api/kernels/${k.id}`, "DELETE");
    }
    expect(await server!.api<unknown[]>("/api/kernels")).toEqual([]);
    await openLab(page, server!);
    await openNotebook(page, "fairdiff-e2e.ipynb", { startKernel: false });
    const report = page.locator(".fd-report").first();
    await report.waitFor({ timeout: 30_000 });
    expect(await report.locator("h2").textContent()).toBe(`${PWN} audit of cxr-mini`);
    expect(await report.locator(".fd-report-prompt q").first().textContent()).toBe(PROMPT);
    expect(await report.locator("table.fd-report-table").count()).toBeGreaterThanOrEqual(2);
    expect(await report.locator("svg.fd-report-chart rect.fd-report-bar").count()).toBeGreaterThan(
      0,
    );
    expect(await report.locator("img").count()).toBe(0);
    expect(await pwned()).toBeUndefined();
    expect(await server!.api<unknown[]>("/api/kernels")).toEqual([]);
    await report.scrollIntoViewIfNeeded();
    await report.screenshot({ path: path.join(ARTIFACTS, "audit-report.png") });

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
          consoleErrors: consoleErrors.filter((e) => !/api\/(me|events)|404/.test(e)).slice(0, 20),
        },
        null,
        2,
      ) + "\n",
    );
  });
});
